package scenario

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// scenarioRealm is a realm prepared for the scenarios: policy ADMIN_EDIT, the roles admin and
// developer, and seeded users.
//
// owned users o000… carry the ownership marker, a developer role with a project, and a foreign
// attribute department=dept-N that no file declares; foreign users keep00… carry no marker
// (roster must never remove them) and a department too.
func scenarioRealm(t *testing.T, owned, foreign int) *keycloaktest.Realm {
	t.Helper()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	// CodeMie's client, with the attribute mappers of CodeMie's guide in profile.
	if _, err := realm.CodeMieClient(ctx, "codemie", "profile", false); err != nil {
		t.Fatal(err)
	}
	var users []keycloaktest.User
	for i := range owned {
		name := fmt.Sprintf("o%03d", i)
		users = append(users, keycloaktest.User{Username: name, Email: name + "@example.com", Enabled: true,
			RealmRoles: []string{"developer"}, Attributes: map[string][]string{
				"applications": {project(i)}, "roster_managed": {"true"}, "department": {fmt.Sprintf("dept-%d", i)}}})
	}
	for i := range foreign {
		name := fmt.Sprintf("keep%02d", i)
		users = append(users, keycloaktest.User{Username: name, Enabled: true,
			Attributes: map[string][]string{"department": {fmt.Sprintf("dept-%d", i)}}})
	}
	if err := realm.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	return realm
}

func project(i int) string { return fmt.Sprintf("proj%d", i%7) }

// faultFile is the desired state of the fault scenario on a realm seeded with 200 owned users:
// 300 users and 300 changes — 60 email updates (o000–o059), 60 role changes from developer to
// admin (o060–o119), 40 unchanged (o120–o159), 40 owned users left out for prune to delete
// (o160–o199) and 140 creations (n000–n139).
func faultFile(realm string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm)
	for i := range 160 {
		name := fmt.Sprintf("o%03d", i)
		switch {
		case i < 60:
			fmt.Fprintf(&b, "  - {username: %s, email: %s@new.example.com, role: developer, projects: {member: [%s]}}\n", name, name, project(i))
		case i < 120:
			fmt.Fprintf(&b, "  - {username: %s, email: %s@example.com, role: admin}\n", name, name)
		default:
			fmt.Fprintf(&b, "  - {username: %s, email: %s@example.com, role: developer, projects: {member: [%s]}}\n", name, name, project(i))
		}
	}
	for i := range 140 {
		name := fmt.Sprintf("n%03d", i)
		fmt.Fprintf(&b, "  - {username: %s, email: %s@example.com, role: developer, projects: {member: [%s]}}\n", name, name, project(i))
	}
	return b.String()
}

// TestFaultsConverge applies 300 changes through a proxy that disturbs 20 % of all requests —
// error statuses, resets before and after forwarding — and delays another 20 %, re-running
// apply until it reports no changes. It must take at most 3 runs and end with no duplicate user,
// every foreign attribute in place, the unowned users untouched and a plan with no changes.
func TestFaultsConverge(t *testing.T) {
	realm := scenarioRealm(t, 200, 20)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	proxy.Inject(keycloaktest.Faults{Seed: 8, Rate: 0.2, LatencyRate: 0.2, MaxLatency: 50 * time.Millisecond})
	r := newRoster(t, realm, proxy.URL)
	file := r.write("roster.yaml", faultFile(realm.Name))

	const maxRuns = 3
	runs := 0
	for {
		runs++
		start := time.Now()
		stdout, stderr, code := r.run("apply", "--auto-approve", "--prune", "delete", "--allow-mass-removal", file)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		t.Logf("run %d: exit %d in %s: %s", runs, code, time.Since(start).Round(time.Millisecond), lines[len(lines)-1])
		if code == 0 && stdout == "No changes. The realm matches the configuration.\n" {
			break
		}
		for _, l := range lines {
			if strings.Contains(l, ": failed to ") {
				t.Logf("run %d: %s", runs, l)
			}
		}
		if code != 0 {
			t.Logf("run %d stderr: %s", runs, strings.TrimSpace(stderr))
		}
		if runs == maxRuns {
			t.Fatalf("apply did not report no changes within %d runs; last output:\n%s%s", maxRuns, stdout, stderr)
		}
	}
	t.Logf("faults injected: %s", proxy.Summary())
	proxy.Inject(keycloaktest.Faults{})

	users := listUsers(t, realm)
	dups := duplicates(users)
	if len(dups) > 0 {
		t.Errorf("duplicates: %s", strings.Join(dups, ", "))
	}
	byName := map[string]liveUser{}
	for _, u := range users {
		byName[u.Username] = u
	}
	lost := 0
	for i := range 160 {
		lost += lostDepartment(t, byName, fmt.Sprintf("o%03d", i), i)
	}
	for i := range 20 {
		lost += lostDepartment(t, byName, fmt.Sprintf("keep%02d", i), i)
	}
	for i := 160; i < 200; i++ {
		if _, ok := byName[fmt.Sprintf("o%03d", i)]; ok {
			t.Errorf("o%03d is still there; prune should have deleted it", i)
		}
	}
	// 300 declared and 20 unowned (the listing leaves service accounts out).
	if want := 300 + 20; len(users) != want {
		t.Errorf("the realm has %d users, want %d", len(users), want)
	}
	admins := realmRoleMembers(t, realm, "admin")
	for i := 60; i < 120; i++ {
		if name := fmt.Sprintf("o%03d", i); !admins[name] {
			t.Errorf("%s is not an admin", name)
		}
	}
	t.Logf("runs to converge: %d; duplicates: %d; lost attributes: %d; users: %d", runs, len(dups), lost, len(users))

	direct := newRoster(t, realm, realm.Server.URL)
	direct.write("roster.yaml", faultFile(realm.Name))
	stdout, stderr, code := direct.run("plan", "--prune", "delete", "--detailed-exitcode", "roster.yaml")
	if want := "Read roster.yaml\n\nNote: 20 users not managed by this file, left alone\n\nNo changes. The realm matches the configuration.\n"; code != 0 || stdout != want {
		t.Errorf("final plan: exit %d\n%s%s", code, stdout, stderr)
	}
}

// lostDepartment reports (1) and fails the test when the user is gone or lost its foreign
// attribute department=dept-i.
func lostDepartment(t *testing.T, users map[string]liveUser, name string, i int) int {
	t.Helper()
	u, ok := users[name]
	if !ok {
		t.Errorf("%s is gone", name)
		return 1
	}
	if got, want := u.Attributes["department"], fmt.Sprintf("dept-%d", i); len(got) != 1 || got[0] != want {
		t.Errorf("%s: department = %q, want [%s]", name, got, want)
		return 1
	}
	return 0
}
