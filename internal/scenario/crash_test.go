package scenario

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// updated returns how many users have the new email the fault scenario's file gives o000–o059.
func updated(t *testing.T, realm *keycloaktest.Realm) int {
	t.Helper()
	var n int
	if err := realm.Admin(context.Background(), "GET", "/users/count?email=new.example.com", nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashRecovery starts the 300 changes of the fault scenario (140 creations, 120 updates,
// 40 deletions) through a proxy that slows every request, stops roster with a signal once 20 of
// the updates are done, and runs apply again: it must finish the job, make no duplicate, and
// leave a plan with no changes. SIGKILL gives roster no chance to clean up; SIGINT (Ctrl-C) and
// SIGTERM (timeout, Kubernetes, CI cancellation) must stop it gracefully, saying what was and
// was not applied, with exit code 1, and release the apply lock: the re-run takes it at once.
func TestCrashRecovery(t *testing.T) {
	const stopAt = 20
	args := []string{"apply", "--auto-approve", "--prune", "delete", "--allow-mass-removal", "roster.yaml"}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			realm := scenarioRealm(t, 200, 20)
			cmd, stdout, stderr := startSlowApply(t, realm, args, stopAt)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatalf("roster finished before %d users were updated: %v\n%s%s", stopAt, err, stdout.String(), stderr.String())
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			t.Logf("%s after %d of 60 email updates: exit %d (%v)", sig, updated(t, realm), code, err)
			if sig != syscall.SIGKILL {
				checkInterrupted(t, sig, stdout.String(), stderr.String(), code)
			}

			direct := newRoster(t, realm, realm.Server.URL)
			direct.write("roster.yaml", faultFile(realm.Name))
			rerun := args
			if sig == syscall.SIGKILL {
				// A killed run cannot give its apply lock back: the next run is refused until the
				// lease runs out, unless whoever knows the run is dead says so with --lock=false.
				out, errOut, code := direct.run(args...)
				if code != 1 || !strings.Contains(errOut, "is locked by another roster apply") {
					t.Errorf("re-run after the kill: exit %d, want 1 and the lock refusal\n%s%s", code, out, errOut)
				}
				rerun = append([]string{args[0], "--lock=false"}, args[1:]...)
			}
			rerunConverges(t, realm, direct, rerun)
		})
	}
}

// rerunConverges re-runs the fault scenario's apply (args) with r after a stopped run: it must
// succeed and leave a plan with no changes, the 320 users and no duplicate.
func rerunConverges(t *testing.T, realm *keycloaktest.Realm, r *roster, args []string) {
	t.Helper()
	out, errOut, code := r.run(args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("re-run: %s", lines[len(lines)-1])
	out, errOut, code = r.run("plan", "--prune", "delete", "--detailed-exitcode", "roster.yaml")
	if want := "Read roster.yaml\n\nNote: 20 users not managed by this file, left alone\n\nNo changes. The realm matches the configuration.\n"; code != 0 || out != want {
		t.Errorf("plan after the re-run: exit %d\n%s%s", code, out, errOut)
	}
	users := listUsers(t, realm)
	dups := duplicates(users)
	if len(dups) > 0 || len(users) != 320 {
		t.Errorf("%d users, duplicates: %v; want 320 users, no duplicate", len(users), dups)
	}
	t.Logf("runs to converge: 2; users: %d; duplicates: %d", len(users), len(dups))
}

// startSlowApply starts the fault scenario's apply (args) through a proxy that slows every
// request, so that the run lasts a few seconds, and returns once stopAt of its 60 email updates
// have landed (or after a minute), with the command still running and its outputs.
func startSlowApply(t *testing.T, realm *keycloaktest.Realm, args []string, stopAt int) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	proxy.Inject(keycloaktest.Faults{Seed: 8, LatencyRate: 1, MaxLatency: 60 * time.Millisecond})
	slow := newRoster(t, realm, proxy.URL)
	slow.write("roster.yaml", faultFile(realm.Name))
	cmd = slow.command(args)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for updated(t, realm) < stopAt && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, stdout, stderr
}

// checkInterrupted checks what an apply stopped by sig said: a line per change, in plan order,
// either done or not started, a summary that counts them, and the error with its hint.
func checkInterrupted(t *testing.T, sig syscall.Signal, stdout, stderr string, code int) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit code %d after %s, want 1", code, sig)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	summary := regexp.MustCompile(`^Apply interrupted: (\d+) added, (\d+) changed, (\d+) removed, 0 failed, (\d+) not started\.$`)
	m := summary.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line of stdout: %q, want the interrupted summary", lines[len(lines)-1])
	}
	var want [4]int
	for i := range want {
		fmt.Sscan(m[i+1], &want[i])
	}
	var got [4]int
	for _, l := range lines[:len(lines)-1] {
		switch {
		case strings.HasSuffix(l, ": created"), strings.HasSuffix(l, ": created (the create's answer was lost; found the user it made)"):
			got[0]++
		case strings.HasSuffix(l, ": updated"):
			got[1]++
		case strings.HasSuffix(l, ": deleted"):
			got[2]++
		case strings.HasSuffix(l, ": not started: apply was interrupted"):
			got[3]++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if got != want || len(lines) != 301 {
		t.Errorf("lines: %v created, updated, deleted, not started of %d; the summary says %v of 300", got, len(lines)-1, want)
	}
	wantErr := fmt.Sprintf("roster: apply interrupted: %d not started\n"+
		"roster: hint: run roster plan and roster apply again: apply picks up where this run stopped\n", want[3])
	// Besides the error, stderr has apply's progress lines (no terminal): those of the changes
	// made before the signal.
	var progress int
	var rest strings.Builder
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if strings.HasPrefix(l, "apply: ") {
			progress++
			continue
		}
		rest.WriteString(l)
	}
	if rest.String() != wantErr || progress < want[0]+want[1] {
		t.Errorf("stderr (%d progress lines):\n%s\nwant:\n%s", progress, rest.String(), wantErr)
	}
	t.Logf("%s: %d created, %d updated, %d deleted, %d reported not started", sig, want[0], want[1], want[2], want[3])
}

// TestPlanInterrupted stops plan --detailed-exitcode with SIGINT and with SIGTERM while it waits
// for the server: it must exit 1, an error — not 3, which says the server is unreachable, nor 2.
func TestPlanInterrupted(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			proxy := keycloaktest.NewFaultProxy(t, realm.Server)
			waiting := make(chan struct{}, 1)
			proxy.Answer("GET", "/admin/realms/"+realm.Name, 1, func(w http.ResponseWriter, r *http.Request) {
				waiting <- struct{}{}
				<-r.Context().Done() // never answers; roster hangs up
			})
			r := newRoster(t, realm, proxy.URL)
			r.write("roster.yaml", fmt.Sprintf("version: 1\nrealm: %s\nusers: []\n", realm.Name))
			cmd := r.command([]string{"plan", "--detailed-exitcode", "roster.yaml"})
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-waiting:
			case <-time.After(time.Minute):
				t.Fatal("plan never asked for the realm")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "context canceled") {
				t.Errorf("exit %d after %s, want 1; stdout %q, stderr:\n%s", code, sig, stdout.String(), stderr.String())
			}
		})
	}
}

// TestInterruptedReadBack interrupts apply (SIGINT) while it reads the users it wrote back, and
// keeps that read stalled past the 10 s grace period: every create landed, so each must be
// reported created and not verified — not failed — with a summary that counts them so.
func TestInterruptedReadBack(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	r := newRoster(t, realm, proxy.URL)
	var file strings.Builder
	fmt.Fprintf(&file, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range 30 {
		fmt.Fprintf(&file, "  - {username: n%03d, role: developer, projects: {member: [alpha]}}\n", i)
	}
	r.write("roster.yaml", file.String())

	count := "/admin/realms/" + realm.Name + "/users/count"
	// Created one by one, the 30 users are read back together after the last, starting with a
	// count of the realm's users (a batch is read back right after it lands, a few users
	// without a count).
	cmd := r.command([]string{"apply", "--auto-approve", "--batch-size", "1", "roster.yaml"})
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The plan and the plan under the lock each count the users; the third count starts the
	// read-back: hold it.
	waitFor := func(n int) {
		deadline := time.Now().Add(time.Minute)
		for proxy.Seen(http.MethodGet, count) < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(2)
	proxy.Delay(http.MethodGet, count, 1, time.Minute)
	waitFor(3)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("apply finished before its read-back: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	_ = cmd.Wait()

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var created int
	for _, l := range lines[:len(lines)-1] {
		if strings.HasSuffix(l, ": created (not verified: reading the users back was cut off: the grace period after the interrupt ran out)") {
			created++
		} else {
			t.Errorf("unexpected line %q", l)
		}
	}
	summary := "Apply complete: 30 added, 0 changed, 0 removed, 0 failed; 30 applied but not verified."
	if code := cmd.ProcessState.ExitCode(); code != 1 || created != 30 || lines[len(lines)-1] != summary {
		t.Errorf("exit %d, %d lines created and not verified, summary %q; want 1, 30, %q\n%s", code, created, lines[len(lines)-1], summary, stderr.String())
	}
	if n := len(listUsers(t, realm)); n != 30 {
		t.Errorf("%d users in the realm, want the 30 created", n)
	}
	t.Logf("SIGINT during the read-back: %s", lines[len(lines)-1])
}
