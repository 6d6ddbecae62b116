package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// updateSizes are the sizes of the realms BenchmarkApplyUpdate changes every tenth user of:
// ROSTER_BENCH_UPDATE_USERS, or 10,000 (1,000 changed).
func updateSizes(t testing.TB) []int { return sizesFrom(t, "ROSTER_BENCH_UPDATE_USERS", "10000") }

// changedOf is how many of a realm of n users BenchmarkApplyUpdate changes: every tenth.
func changedOf(n int) int { return (n + 9) / 10 }

// updateParallelism is the parallelism of every side of BenchmarkApplyUpdate: roster's default.
const updateParallelism = 8

// BenchmarkApplyUpdate measures, at each size n of updateSizes, `roster apply --parallelism 8`
// changing the email of every tenth of the n developers it owns (1,000 of 10,000) in a realm
// seeded by partial import — read-back verification included — against two reference loops at
// the same parallelism:
//   - the bare loop, the fewest requests for the same result: one login, the user listing in
//     brief pages of 500 (the ids), and one PUT /users/{id} per changed user with its username,
//     new email and enabled flag (Keycloak keeps the attributes a PUT leaves out);
//   - the reading loop (readingUpdate), which reads what a tool that plans attributes and keeps
//     concurrent edits must: the listing in full pages, and per changed user a GET right before
//     its PUT and a GET after it.
//
// All work on the same realm, rotating which goes first; each run moves every changed user to a
// new email, so each side finds the same users to change. Seeding is not measured, nor is a first
// roster run, which warms the server up and leaves the realm the mark of an apply, as every
// apply but a realm's first finds it; the medians of the rounds b.Loop grants (once each above
// onceAbove users) are reported.
func BenchmarkApplyUpdate(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range updateSizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) { benchUpdate(b, bin, n) })
	}
}

// benchUpdate is BenchmarkApplyUpdate at one size.
func benchUpdate(b *testing.B, bin string, n int) {
	realm := updateRealm(b, n)
	proxy, count := countingProxy(b, realm.Server.URL, realm.Name)
	// side measures one side's run; each run moves the changed users to the emails of a new round.
	round := 0
	side := func(run func(round int) time.Duration) func() measured {
		return func() measured {
			count.reset()
			round++
			wall := run(round)
			return measured{wall: wall, requests: count.requests.Load()}
		}
	}
	rosterSide := side(func(round int) time.Duration { return rosterUpdate(b, bin, proxy.URL, realm, n, round) })
	bareSide := side(func(round int) time.Duration { return bareUpdate(b, proxy.URL, realm, n, round) })
	readingSide := side(func(round int) time.Duration { return readingUpdate(b, proxy.URL, realm, n, round) })
	rosterSide() // warm the server up and mark the realm; not measured
	row := sideBySide(b.Loop, changedOf(n), mostRounds(n), rosterSide, bareSide, readingSide)
	row.realm, row.parallelism = n, updateParallelism
	report.update = append(report.update, row)
	reportMetrics(b, row, "reading")
}

// updateAttributes are the attributes roster keeps on developer i, its ownership marker included.
func updateAttributes(i int) map[string][]string {
	return map[string][]string{"applications": {fmt.Sprintf("p%d", i%37)}, "roster_managed": {"true"}}
}

// updated reports whether user i is one the benchmark changes: every tenth.
func updated(i int) bool { return i%10 == 0 }

// updateEmail is user i's email after round (round 0: as seeded).
func updateEmail(i, round int) string {
	if round == 0 || !updated(i) {
		return fmt.Sprintf("user%05d@example.com", i)
	}
	return fmt.Sprintf("user%05d@r%d.example.com", i, round)
}

// updateRealm returns a realm with n developers roster owns, deleted when the benchmark ends.
func updateRealm(b testing.TB, n int) *keycloaktest.Realm {
	seedMu.Lock()
	checkHeap(b, keycloaktest.Require(b), n)
	seedMu.Unlock()
	realm := prepared(b)
	users := make([]keycloaktest.User, n)
	for i := range users {
		users[i] = keycloaktest.User{Username: fmt.Sprintf("user%05d", i), Email: updateEmail(i, 0), Enabled: true,
			RealmRoles: []string{"developer"}, Attributes: updateAttributes(i)}
	}
	check(b, realm.SeedUsers(context.Background(), users))
	return realm
}

func rosterUpdate(b testing.TB, bin, serverURL string, realm *keycloaktest.Realm, n, round int) (wall time.Duration) {
	return timedApplyAt(b, bin, serverURL, realm, updateFile(realm, n, round), fmt.Sprintf("Apply complete: 0 added, %d changed", changedOf(n)),
		"--parallelism", fmt.Sprint(updateParallelism))
}

// updateFile is the desired state of realm's n users after round.
func updateFile(realm *keycloaktest.Realm, n, round int) string {
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range n {
		fmt.Fprintf(&yaml, "  - {username: user%05d, email: %s, role: developer, projects: {member: [p%d]}}\n", i, updateEmail(i, round), i%37)
	}
	return yaml.String()
}

// bareUpdate lists the users in brief pages of 500 and sends each changed one its new email,
// with updateParallelism workers.
func bareUpdate(b testing.TB, serverURL string, realm *keycloaktest.Realm, n, round int) time.Duration {
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
				i, _ := userIndex(u.Username, n)
				send(http.MethodPut, "/users/"+u.ID, map[string]any{"username": u.Username, "email": updateEmail(i, round), "enabled": true}).Body.Close()
			}
		})
	}
	for first := 0; ; first += listPage {
		var page []user
		resp := send(http.MethodGet, fmt.Sprintf("/users?briefRepresentation=true&first=%d&max=%d", first, listPage), nil)
		check(b, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		for _, u := range page {
			if i, ok := userIndex(u.Username, n); ok && updated(i) {
				work <- u
			}
		}
		if len(page) < listPage {
			break
		}
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}

// readingUpdate is the reading loop: one login, the user listing in full pages of 500 with up to
// 4 in flight (listUsers of fullUsers: the read that shows each user's attributes, which planning them needs),
// and for each user whose listed email differs from the new one, with updateParallelism
// workers: GET /users/{id} right before the PUT (so that root fields and an edit made since the
// listing go back as read), the PUT of that representation with the new email and without its
// attributes (Keycloak keeps those a PUT leaves out), and a GET reading the user back, which
// must show the new email and the attributes as seeded. It reads each changed user back by
// itself rather than listing the realm again: for a tenth of the realm that is what roster's
// read-back chooses too (keycloak.ListingPaysOff). It fails unless it changed every
// tenth user.
func readingUpdate(b testing.TB, serverURL string, realm *keycloaktest.Realm, n, round int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	send := rawSender(b, ctx, realm, serverURL)
	work := make(chan userRep)
	var done atomic.Int64
	var wg sync.WaitGroup
	for range updateParallelism {
		wg.Go(func() {
			for u := range work {
				i, _ := userIndex(u.Username, n)
				path := "/users/" + u.ID
				var rep map[string]json.RawMessage
				resp := send(http.MethodGet, path, nil)
				check(b, json.NewDecoder(resp.Body).Decode(&rep))
				resp.Body.Close()
				rep["email"], _ = json.Marshal(updateEmail(i, round))
				delete(rep, "attributes")
				send(http.MethodPut, path, rep).Body.Close()
				var back userRep
				resp = send(http.MethodGet, path, nil)
				check(b, json.NewDecoder(resp.Body).Decode(&back))
				resp.Body.Close()
				if back.Email != updateEmail(i, round) || !holds(back.Attributes, updateAttributes(i)) {
					b.Errorf("reading loop: %s reads back with email %q and attributes %v after the update", u.Username, back.Email, back.Attributes)
				}
				done.Add(1)
			}
		})
	}
	listUsers(b, send, fullUsers, n, func(page []userRep) {
		for _, u := range page {
			if i, ok := userIndex(u.Username, n); ok && u.Email != updateEmail(i, round) {
				work <- u
			}
		}
	})
	close(work)
	wg.Wait()
	if got := done.Load(); got != int64(changedOf(n)) {
		b.Fatalf("reading loop: changed %d users, want %d", got, changedOf(n))
	}
	return time.Since(start)
}
