package scenario

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// concurrentFile declares the 100 seeded users o000–o099 for one of two teams: file "a" keeps
// them developers of project alpha at @a.example.com; file "b" makes them admins (no projects)
// at @b.example.com. Both change the same fields of every user (email and applications), and
// only "b" changes the role. Each file takes access away from every user the other gave it, on
// purpose, so the access guard's limit is lifted.
func concurrentFile(realm, which string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT, maxAccessLosses: 1000}\nusers:\n", realm)
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
			// Each file changes every user's access: the access guard must be overridden.
			out, errOut, code := rosters[which].run("apply", "--auto-approve", "--allow-mass-removal", "--lock-timeout", "2m", "roster.yaml")
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
	if code != 0 || out != "Read roster.yaml\n\nNo changes. The realm matches the configuration.\n" {
		t.Errorf("plan %s.yaml after both applies: exit %d\n%s%s", last, code, out, errOut)
	}
}

// TestPausedHolderWritesNothingAfterTakeover pauses an apply (SIGSTOP) in the middle of its
// writes for longer than its lock's lease, lets a second apply of another file take the expired
// lock over and finish, then resumes the first (SIGCONT). The first must write nothing more: it
// cannot prove it still holds the lock, so it stops and says so (exit 1, "lost the apply lock
// after N changes; run plan again"), and every user ends as the second file says. The lease is
// shortened to 4 s with --lock-lease; the first run goes through a proxy that slows every
// request and records when each arrives, so its writes after the resume can be counted.
func TestPausedHolderWritesNothingAfterTakeover(t *testing.T) {
	realm := scenarioRealm(t, 100, 0)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	proxy.Inject(keycloaktest.Faults{Seed: 3, LatencyRate: 1, MaxLatency: 80 * time.Millisecond})
	slow := newRoster(t, realm, proxy.URL)
	slow.write("a.yaml", concurrentFile(realm.Name, "a"))
	direct := newRoster(t, realm, realm.Server.URL)
	direct.write("b.yaml", concurrentFile(realm.Name, "b"))

	a := slow.command([]string{"apply", "--auto-approve", "--lock-lease", "4s", "--parallelism", "2", "a.yaml"})
	var aOut, aErr bytes.Buffer
	a.Stdout, a.Stderr = &aOut, &aErr
	// roster runs as a supervisor and its child (package supervise): pause and resume the whole
	// process group, as a job stopped in a shell or a frozen machine would be.
	a.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	countA := func() int {
		var n int
		if err := realm.Admin(context.Background(), "GET", "/users/count?email=a.example.com", nil, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(time.Minute)
	for countA() < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(-a.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("the first apply finished before it was paused: %v\n%s%s", err, aOut.String(), aErr.String())
	}
	paused := countA()

	out, errOut, code := direct.run("apply", "--auto-approve", "--lock-lease", "4s", "--lock-timeout", "1m", "b.yaml")
	if code != 0 {
		t.Fatalf("the second apply: exit %d, want 0 once the paused run's lease ran out\n%s%s", code, out, errOut)
	}
	resumed := time.Now()
	if err := syscall.Kill(-a.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()
	codeA := a.ProcessState.ExitCode()

	var after []string
	for _, r := range proxy.Requests() {
		if r.At.After(resumed) && r.Method != http.MethodGet && !strings.Contains(r.Path, "/roles-by-id/") {
			after = append(after, r.Method+" "+r.Path)
		}
	}
	// stderr starts with apply's progress lines (no terminal) and the file's warnings; the error
	// follows them.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(aErr.String()), "\n") {
		if !strings.HasPrefix(l, "apply: ") && !strings.Contains(l, ": warning: ") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "")
	t.Logf("paused after %d of 100 email updates; the second apply took over and finished; the resumed run: exit %d, %q; writes after the resume: %d",
		paused, codeA, lines[0], len(after))
	if len(after) > 0 {
		t.Errorf("the resumed run wrote after the takeover: %v", after)
	}
	if codeA != 1 || !regexp.MustCompile(`^roster: lost the apply lock after \d+ changes?; run plan again: `).MatchString(lines[0]) {
		t.Errorf("the resumed run: exit %d, want 1 and the lost-lock error\n%s%s", codeA, aOut.String(), aErr.String())
	}
	admins := realmRoleMembers(t, realm, "admin")
	var notB int
	for _, u := range listUsers(t, realm) {
		if !strings.HasSuffix(u.Email, "@b.example.com") || len(u.Attributes["applications"]) != 0 || !admins[u.Username] {
			notB++
		}
	}
	if notB != 0 {
		t.Errorf("%d users are not as b.yaml says; the resumed run said:\n%s", notB, aOut.String())
	}
}
