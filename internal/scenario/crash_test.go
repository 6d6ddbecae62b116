package scenario

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// createFile declares n users for roster to create, u000 onwards.
func createFile(realm string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm)
	for i := range n {
		fmt.Fprintf(&b, "  - {username: u%03d, email: u%03d@example.com, role: developer, projects: {member: [%s]}}\n", i, i, project(i))
	}
	return b.String()
}

// userCount returns how many users the realm has, read as the master administrator.
func userCount(t *testing.T, realm *keycloaktest.Realm) int {
	t.Helper()
	var n int
	if err := realm.Admin(context.Background(), "GET", "/users/count", nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashRecovery starts an apply of 300 creations through a proxy that slows every request,
// stops it with a signal once 60 users exist, and runs apply again: it must finish the job, make
// no duplicate, and leave a plan with no changes. SIGKILL gives roster no chance to clean up;
// SIGINT must stop it gracefully, saying what was and was not applied, with exit code 1.
func TestCrashRecovery(t *testing.T) {
	const total, killAt = 300, 60
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			realm := scenarioRealm(t, 0, 0)
			proxy := keycloaktest.NewFaultProxy(t, realm.Server)
			proxy.Inject(keycloaktest.Faults{Seed: 8, LatencyRate: 1, MaxLatency: 60 * time.Millisecond})
			slow := newRoster(t, realm, proxy.URL)
			file := slow.write("roster.yaml", createFile(realm.Name, total))

			cmd := slow.command([]string{"apply", "--auto-approve", file})
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for userCount(t, realm) < killAt && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatalf("roster finished before %d users existed: %v\n%s%s", killAt, err, stdout.String(), stderr.String())
			}
			err := cmd.Wait()
			before := userCount(t, realm)
			code := cmd.ProcessState.ExitCode()
			t.Logf("%s with %d of %d users created: exit %d (%v)", sig, before, total, code, err)

			if sig == syscall.SIGINT {
				checkInterrupted(t, stdout.String(), stderr.String(), code, before)
			}

			direct := newRoster(t, realm, realm.Server.URL)
			direct.write("roster.yaml", createFile(realm.Name, total))
			out, errOut, code := direct.run("apply", "--auto-approve", "roster.yaml")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 {
				t.Fatalf("re-run: exit %d\n%s%s", code, out, errOut)
			}
			t.Logf("re-run: %s", lines[len(lines)-1])
			out, errOut, code = direct.run("plan", "--detailed-exitcode", "roster.yaml")
			if code != 0 || out != "No changes. The realm matches the configuration.\n" {
				t.Errorf("plan after the re-run: exit %d\n%s%s", code, out, errOut)
			}
			users := listUsers(t, realm)
			dups := duplicates(users)
			if len(dups) > 0 || len(users) != total {
				t.Errorf("%d users, duplicates: %v; want %d users, no duplicate", len(users), dups, total)
			}
			t.Logf("runs to converge: 2; users: %d; duplicates: %d", len(users), len(dups))
		})
	}
}

// checkInterrupted checks what an apply stopped by SIGINT said: a line per change it finished,
// a summary counting those it did not start, and the error with its hint.
func checkInterrupted(t *testing.T, stdout, stderr string, code, created int) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit code %d after SIGINT, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	summary := regexp.MustCompile(`^Apply interrupted: (\d+) added, 0 changed, 0 removed, 0 failed, (\d+) not started\.$`)
	m := summary.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line of stdout: %q, want the interrupted summary", lines[len(lines)-1])
	}
	var added, notStarted int
	fmt.Sscan(m[1], &added)
	fmt.Sscan(m[2], &notStarted)
	if added != created || added+notStarted != 300 {
		t.Errorf("summary says %d added and %d not started; the realm has %d users of 300", added, notStarted, created)
	}
	var done, skipped int
	for _, l := range lines[:len(lines)-1] {
		switch {
		case strings.HasSuffix(l, ": created"):
			done++
		case strings.HasSuffix(l, ": not started: apply was interrupted"):
			skipped++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if done != added || skipped != notStarted {
		t.Errorf("%d created and %d not-started lines, want %d and %d", done, skipped, added, notStarted)
	}
	want := fmt.Sprintf("roster: apply interrupted: %d not started\n"+
		"roster: hint: run roster plan and roster apply again: apply picks up where this run stopped\n", notStarted)
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	t.Logf("SIGINT: %d applied and reported, %d reported not started", added, notStarted)
}
