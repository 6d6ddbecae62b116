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
// takes no lock, so this is what it guarantees (docs/reliability.md): no duplicate user, no lost
// foreign attribute, and each user's fields and attributes are one file's version, since each
// update sends the whole user in one request. Role mappings are separate requests, so a user may
// end with one file's attributes and the other's role; one more apply of either file then
// converges in one run.
func TestConcurrentApplies(t *testing.T) {
	realm := scenarioRealm(t, 100, 0)
	r := newRoster(t, realm, realm.Server.URL)
	files := map[string]string{"a": r.write("a.yaml", concurrentFile(realm.Name, "a")), "b": r.write("b.yaml", concurrentFile(realm.Name, "b"))}

	var wg sync.WaitGroup
	results := map[string]string{}
	var mu sync.Mutex
	for _, which := range []string{"a", "b"} {
		wg.Go(func() {
			out, errOut, code := r.run("apply", "--auto-approve", files[which])
			lines := strings.Split(strings.TrimSpace(out), "\n")
			mu.Lock()
			results[which] = fmt.Sprintf("exit %d: %s %s", code, lines[len(lines)-1], strings.TrimSpace(errOut))
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("apply a.yaml: %s", results["a"])
	t.Logf("apply b.yaml: %s", results["b"])

	users := listUsers(t, realm)
	admins := realmRoleMembers(t, realm, "admin")
	developers := realmRoleMembers(t, realm, "developer")
	var fromA, fromB, mixedRole, lost int
	for _, u := range users {
		apps := strings.Join(u.Attributes["applications"], ",")
		switch {
		case strings.HasSuffix(u.Email, "@a.example.com") && apps == "alpha":
			fromA++
			if admins[u.Username] || !developers[u.Username] {
				mixedRole++
			}
		case strings.HasSuffix(u.Email, "@b.example.com") && apps == "":
			fromB++
			if !admins[u.Username] || developers[u.Username] {
				mixedRole++
			}
		default:
			t.Errorf("%s has email %s and applications %q: a mix of both files", u.Username, u.Email, apps)
		}
		if len(u.Attributes["department"]) != 1 {
			lost++
			t.Errorf("%s lost its department", u.Username)
		}
	}
	if dups := duplicates(users); len(dups) > 0 || len(users) != 100 {
		t.Errorf("%d users, duplicates %v; want 100, none", len(users), dups)
	}
	t.Logf("users with a.yaml's attributes: %d, with b.yaml's: %d, mixed attributes: %d, with the other file's role: %d, lost attributes: %d",
		fromA, fromB, 100-fromA-fromB, mixedRole, lost)

	out, errOut, code := r.run("apply", "--auto-approve", files["a"])
	if code != 0 {
		t.Fatalf("apply a.yaml afterwards: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = r.run("plan", "--detailed-exitcode", files["a"])
	if code != 0 || out != "No changes. The realm matches the configuration.\n" {
		t.Errorf("plan a.yaml after one more apply: exit %d\n%s%s", code, out, errOut)
	}
}
