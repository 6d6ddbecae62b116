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

// BenchmarkApplyUpdate measures `roster apply --parallelism 8` changing the email of 1,000
// developers it owns — read-back verification included — against a raw loop that lists the
// users and updates each with 8 workers, each in a fresh realm seeded with the same users
// (seeding is not measured). The two alternate which goes first.
func BenchmarkApplyUpdate(b *testing.B) {
	bin := rosterBin(b)
	var rosterWall, rawWall time.Duration
	first := true
	for b.Loop() {
		if first {
			rosterWall += rosterUpdate(b, bin)
			rawWall += rawUpdate(b)
		} else {
			rawWall += rawUpdate(b)
			rosterWall += rosterUpdate(b, bin)
		}
		first = !first
	}
	report.update = append(report.update, rates(b, rosterWall, rawWall))
}

// updateAttributes are the attributes roster keeps on developer i, its ownership marker included.
func updateAttributes(i int) map[string][]string {
	return map[string][]string{"applications": {fmt.Sprintf("p%d", i%37)}, "roster_managed": {"true"}}
}

// updateRealm returns a fresh realm with 1,000 developers roster owns, at @example.com.
func updateRealm(b *testing.B) *keycloaktest.Realm {
	realm := prepared(b)
	users := make([]keycloaktest.User, applyUsers)
	for i := range users {
		name := fmt.Sprintf("user%04d", i)
		users[i] = keycloaktest.User{Username: name, Email: name + "@example.com", Enabled: true,
			RealmRoles: []string{"developer"}, Attributes: updateAttributes(i)}
	}
	check(b, realm.SeedUsers(context.Background(), users))
	return realm
}

func rosterUpdate(b *testing.B, bin string) time.Duration {
	realm := updateRealm(b)
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range applyUsers {
		fmt.Fprintf(&yaml, "  - {username: user%04d, email: user%04d@new.example.com, role: developer, projects: {member: [p%d]}}\n", i, i, i%37)
	}
	return timedApply(b, bin, realm, yaml.String(), fmt.Sprintf("Apply complete: 0 added, %d changed", applyUsers))
}

// rawUpdate lists the users (pages of 500) and sends each its new email with the attributes it
// has, the fewest requests for the same result.
func rawUpdate(b *testing.B) time.Duration {
	realm := updateRealm(b)
	ctx := context.Background()
	start := time.Now()
	send := rawSender(b, ctx, realm)
	type user struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	var all []user
	for first := 0; ; first += 500 {
		var page []user
		resp := send(http.MethodGet, fmt.Sprintf("/users?briefRepresentation=true&first=%d&max=500", first), nil)
		check(b, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
	}
	work := make(chan user)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for u := range work {
				var i int
				fmt.Sscanf(u.Username, "user%d", &i)
				send(http.MethodPut, "/users/"+u.ID, map[string]any{"username": u.Username,
					"email": u.Username + "@new.example.com", "enabled": true, "attributes": updateAttributes(i)}).Body.Close()
			}
		})
	}
	for _, u := range all {
		if strings.HasPrefix(u.Username, "user") {
			work <- u
		}
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}
