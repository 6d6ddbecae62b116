package scenario

import (
	"fmt"
	"strings"
	"sync"
	"testing"
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

// TestConcurrentApplies runs two applies of different files against one realm at once. roster
// takes no lock, and Keycloak does not isolate two updates of one user from each other, so a
// user may end with some fields from each file (docs/reliability.md says so). What must hold:
// both runs end with exit code 0 or 1 and a line per change, no user is duplicated, no foreign
// attribute is lost, and one more apply of either file converges in one run.
func TestConcurrentApplies(t *testing.T) {
	realm := scenarioRealm(t, 100, 0)
	r := newRoster(t, realm, realm.Server.URL)
	files := map[string]string{"a": r.write("a.yaml", concurrentFile(realm.Name, "a")), "b": r.write("b.yaml", concurrentFile(realm.Name, "b"))}

	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[string]bool{} // users a run reported as failed
	for _, which := range []string{"a", "b"} {
		wg.Go(func() {
			out, errOut, code := r.run("apply", "--auto-approve", files[which])
			lines := strings.Split(strings.TrimSpace(out), "\n")
			mu.Lock()
			defer mu.Unlock()
			if (code != 0 && code != 1) || len(lines) != 101 {
				t.Errorf("apply %s.yaml: exit %d, %d lines, want 0 or 1 and a line per change and a summary\n%s%s", which, code, len(lines), out, errOut)
			}
			t.Logf("apply %s.yaml: exit %d: %s", which, code, lines[len(lines)-1])
			for _, l := range lines {
				if name, ok := strings.CutPrefix(l, "user \""); ok && (strings.Contains(l, ": failed to ") || strings.Contains(l, ": Keycloak did not")) {
					failed[name[:strings.IndexByte(name, '"')]] = true
				}
			}
		})
	}
	wg.Wait()

	users := listUsers(t, realm)
	admins := realmRoleMembers(t, realm, "admin")
	developers := realmRoleMembers(t, realm, "developer")
	var fromA, fromB, mixed, mixedReported, lost int
	for _, u := range users {
		apps := strings.Join(u.Attributes["applications"], ",")
		switch {
		case strings.HasSuffix(u.Email, "@a.example.com") && apps == "alpha" && developers[u.Username] && !admins[u.Username]:
			fromA++
		case strings.HasSuffix(u.Email, "@b.example.com") && apps == "" && admins[u.Username] && !developers[u.Username]:
			fromB++
		default:
			mixed++
			if failed[u.Username] {
				mixedReported++
			}
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
	t.Logf("users as in a.yaml: %d, as in b.yaml: %d, mixed: %d (reported failed by a run: %d); duplicates: %d, lost attributes: %d",
		fromA, fromB, mixed, mixedReported, len(dups), lost)

	out, errOut, code := r.run("apply", "--auto-approve", files["a"])
	if code != 0 {
		t.Fatalf("apply a.yaml afterwards: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = r.run("plan", "--detailed-exitcode", files["a"])
	if code != 0 || out != "No changes. The realm matches the configuration.\n" {
		t.Errorf("plan a.yaml after one more apply: exit %d\n%s%s", code, out, errOut)
	}
}
