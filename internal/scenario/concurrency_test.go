package scenario

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// concurrentFile declares the 100 seeded users o000–o099 for one of two teams: file "a" keeps
// them developers of project alpha at @a.example.com; file "b" makes them admins (no projects)
// at @b.example.com. Both change the same fields of every user (email and applications), and
// only "b" changes the role.
func concurrentFile(realm, which string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm)
	for i := range 100 {
		if which == "a" {
			fmt.Fprintf(&b, "  - {username: o%03d, email: o%03d@a.example.com, role: developer, projects: {member: [alpha]}}\n", i, i)
		} else {
			fmt.Fprintf(&b, "  - {username: o%03d, email: o%03d@b.example.com, role: admin}\n", i, i)
		}
	}
	return b.String()
}

// TestConcurrentApplies runs two applies of different files against one realm at once. The
// apply lock makes one wait for the other (--lock-timeout) and plan only after it, so the realm
// ends exactly as the file of the run that went second: no user mixes the two files. Neither
// run fails, no user is duplicated, no foreign attribute is lost, and a plan of the winning file
// finds nothing to do.
func TestConcurrentApplies(t *testing.T) {
	realm := scenarioRealm(t, 100, 0)
	concurrentApplies(t, realm, realm.Server.URL, realm.Server.URL)
}

// concurrentApplies runs the applies of TestConcurrentApplies, a.yaml through the server at
// urlA and b.yaml through the one at urlB, and checks the outcome.
func concurrentApplies(t *testing.T, realm *keycloaktest.Realm, urlA, urlB string) {
	rosters := map[string]*roster{"a": newRoster(t, realm, urlA), "b": newRoster(t, realm, urlB)}
	for which, r := range rosters {
		r.write("roster.yaml", concurrentFile(realm.Name, which))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var order []string // the files, in the order their applies finished
	for _, which := range []string{"a", "b"} {
		wg.Go(func() {
			out, errOut, code := rosters[which].run("apply", "--auto-approve", "--lock-timeout", "2m", "roster.yaml")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			mu.Lock()
			defer mu.Unlock()
			order = append(order, which)
			if code != 0 {
				t.Errorf("apply %s.yaml: exit %d, want 0: the other apply holds the lock until it is done\n%s%s", which, code, out, errOut)
			}
			t.Logf("apply %s.yaml: exit %d: %s", which, code, lines[len(lines)-1])
		})
	}
	wg.Wait()

	users := listUsers(t, realm)
	admins := realmRoleMembers(t, realm, "admin")
	developers := realmRoleMembers(t, realm, "developer")
	var fromA, fromB, mixed, lost int
	for _, u := range users {
		apps := strings.Join(u.Attributes["applications"], ",")
		switch {
		case strings.HasSuffix(u.Email, "@a.example.com") && apps == "alpha" && developers[u.Username] && !admins[u.Username]:
			fromA++
		case strings.HasSuffix(u.Email, "@b.example.com") && apps == "" && admins[u.Username] && !developers[u.Username]:
			fromB++
		default:
			mixed++
		}
		if got := u.Attributes["department"]; len(got) != 1 {
			lost++
			t.Errorf("%s: department = %q, want one value", u.Username, got)
		}
	}
	dups := duplicates(users)
	if len(dups) > 0 || len(users) != 100 {
		t.Errorf("%d users, duplicates %v; want 100, none", len(users), dups)
	}
	t.Logf("finished in the order %v; users as in a.yaml: %d, as in b.yaml: %d, mixed: %d; duplicates: %d, lost attributes: %d",
		order, fromA, fromB, mixed, len(dups), lost)
	if len(order) != 2 {
		t.Fatalf("%d applies finished, want 2", len(order))
	}
	last := order[1]
	if want := map[string]int{"a": fromA, "b": fromB}[last]; want != 100 || mixed != 0 {
		t.Errorf("users as in %s.yaml, which applied last: %d, mixed: %d; want 100 and 0", last, want, mixed)
	}
	out, errOut, code := rosters[last].run("plan", "--detailed-exitcode", "roster.yaml")
	if code != 0 || out != "No changes. The realm matches the configuration.\n" {
		t.Errorf("plan %s.yaml after both applies: exit %d\n%s%s", last, code, out, errOut)
	}
}
