package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// updateRealmUsers is the size of the realm BenchmarkApplyUpdate changes applyUsers users of.
const updateRealmUsers = 10 * applyUsers

// updateParallelism is the parallelism of both sides of BenchmarkApplyUpdate: roster's default.
const updateParallelism = 8

// BenchmarkApplyUpdate measures `roster apply --parallelism 8` changing the email of 1,000 of
// the 10,000 developers it owns in a realm seeded by partial import — read-back verification
// included — against a bare loop sending the fewest requests for the same result at the same
// parallelism: one login, the user listing in brief pages of 500 (20 requests: the ids), and one
// PUT /users/{id} per changed user with its username, new email and enabled flag (Keycloak keeps
// the attributes a PUT leaves out). Both work on the same realm, alternating which goes first;
// each round moves every changed user to a new email, so each side finds 1,000 users to change.
// Seeding is not measured; the medians of b.N runs each are reported.
func BenchmarkApplyUpdate(b *testing.B) {
	bin := rosterBin(b)
	realm := updateRealm(b)
	proxy, count := countingProxy(b, realm.Server.URL)
	round := 0
	step := func(side func(round int) measured) measured {
		count.reset()
		round++
		r := side(round)
		r.requests = count.requests.Load()
		return r
	}
	rosterSide := func(round int) measured { return measured{wall: rosterUpdate(b, bin, proxy.URL, realm, round)} }
	bareSide := func(round int) measured { return measured{wall: bareUpdate(b, proxy.URL, realm, round)} }
	step(bareSide) // warm the server up; not measured
	var rosterRates, bareRates []float64
	var row createRow
	first := true
	for b.Loop() {
		var r, l measured
		if first {
			r = step(rosterSide)
			l = step(bareSide)
		} else {
			l = step(bareSide)
			r = step(rosterSide)
		}
		first = !first
		rosterRates = append(rosterRates, applyUsers/r.wall.Seconds())
		bareRates = append(bareRates, applyUsers/l.wall.Seconds())
		row.requests, row.rawRequests = r.requests, l.requests
	}
	row.users, row.parallelism = applyUsers, updateParallelism
	row.roster, row.raw = median(rosterRates), median(bareRates)
	report.update = append(report.update, row)
	b.ReportMetric(row.roster, "roster-users/s")
	b.ReportMetric(row.raw, "raw-users/s")
	b.ReportMetric(row.roster/row.raw, "roster/raw")
	b.ReportMetric(float64(row.requests), "roster-requests")
	b.ReportMetric(float64(row.rawRequests), "raw-requests")
}

// updateAttributes are the attributes roster keeps on developer i, its ownership marker included.
func updateAttributes(i int) map[string][]string {
	return map[string][]string{"applications": {fmt.Sprintf("p%d", i%37)}, "roster_managed": {"true"}}
}

// updated reports whether user i is one the benchmark changes: every tenth.
func updated(i int) bool { return i%(updateRealmUsers/applyUsers) == 0 }

// updateEmail is user i's email after round (round 0: as seeded).
func updateEmail(i, round int) string {
	if round == 0 || !updated(i) {
		return fmt.Sprintf("user%05d@example.com", i)
	}
	return fmt.Sprintf("user%05d@r%d.example.com", i, round)
}

// updateRealm returns a realm with updateRealmUsers developers roster owns, deleted when the
// benchmark ends.
func updateRealm(b testing.TB) *keycloaktest.Realm {
	realm := prepared(b)
	users := make([]keycloaktest.User, updateRealmUsers)
	for i := range users {
		users[i] = keycloaktest.User{Username: fmt.Sprintf("user%05d", i), Email: updateEmail(i, 0), Enabled: true,
			RealmRoles: []string{"developer"}, Attributes: updateAttributes(i)}
	}
	check(b, realm.SeedUsers(context.Background(), users))
	return realm
}

func rosterUpdate(b testing.TB, bin, serverURL string, realm *keycloaktest.Realm, round int) (wall time.Duration) {
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range updateRealmUsers {
		fmt.Fprintf(&yaml, "  - {username: user%05d, email: %s, role: developer, projects: {member: [p%d]}}\n", i, updateEmail(i, round), i%37)
	}
	return timedApplyAt(b, bin, serverURL, realm, yaml.String(), fmt.Sprintf("Apply complete: 0 added, %d changed", applyUsers),
		"--parallelism", fmt.Sprint(updateParallelism))
}

// bareUpdate lists the users in brief pages of 500 and sends each changed one its new email,
// with updateParallelism workers.
func bareUpdate(b *testing.B, serverURL string, realm *keycloaktest.Realm, round int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	send := rawSender(b, ctx, realm, serverURL)
	type user struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	work := make(chan user)
	var wg sync.WaitGroup
	for range updateParallelism {
		wg.Go(func() {
			for u := range work {
				var i int
				fmt.Sscanf(u.Username, "user%d", &i)
				send(http.MethodPut, "/users/"+u.ID, map[string]any{"username": u.Username, "email": updateEmail(i, round), "enabled": true}).Body.Close()
			}
		})
	}
	for first := 0; ; first += 500 {
		var page []user
		resp := send(http.MethodGet, fmt.Sprintf("/users?briefRepresentation=true&first=%d&max=500", first), nil)
		check(b, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		for _, u := range page {
			var i int
			if _, err := fmt.Sscanf(u.Username, "user%d", &i); err == nil && updated(i) {
				work <- u
			}
		}
		if len(page) < 500 {
			break
		}
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}
