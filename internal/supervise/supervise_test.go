//go:build linux

package supervise

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv names what the test binary does when it runs as a child of Run.
const childEnv = "SUPERVISE_TEST_CHILD"

// TestMain runs the test binary as one of the children below when childEnv says so.
func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "changes":
		os.Exit(ChildExit(2))
	case "error":
		os.Exit(ChildExit(1))
	case "unreachable":
		os.Exit(ChildExit(3))
	case "panic in a goroutine":
		quiet()
		go func() { panic("boom") }()
		time.Sleep(10 * time.Second)
	case "fatal error":
		quiet()
		// A stack overflow is a fatal runtime error, which no recover catches. (A deadlock is
		// one too, but the race detector's runtime does not always notice it.)
		debug.SetMaxStack(1 << 20)
		recurse(0)
	case "killed":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(10 * time.Second)
	case "stops on SIGTERM":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := os.WriteFile(os.Getenv("READY_FILE"), nil, 0o600); err != nil {
			os.Exit(9)
		}
		select {
		case <-ctx.Done():
			os.Exit(ChildExit(1))
		case <-time.After(10 * time.Second):
			os.Exit(8)
		}
	}
	os.Exit(7)
}

// recurse never returns: each call needs a little more stack than the last.
func recurse(n int) int {
	var pad [256]byte
	pad[n%len(pad)] = byte(n)
	return recurse(n+1) + int(pad[0])
}

// quiet sends the child's stderr, where Go writes the crash, to /dev/null: the crash is meant.
func quiet() {
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		_ = syscall.Dup3(int(null.Fd()), 2, 0)
	}
}

// TestRunExitCodes runs children that end every way a roster can: the codes roster means pass
// through (2 as Changes), and a crash — a panic in a goroutine, a fatal runtime error, a kill —
// ends in 1 with a line that says so, never in Go's 2.
func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		child  string
		code   int
		stderr string
	}{
		{"changes", 2, ""},
		{"error", 1, ""},
		{"unreachable", 3, ""},
		{"panic in a goroutine", 1, "roster: internal error: roster crashed; this is a bug, please report it with the lines above\n"},
		{"fatal error", 1, "roster: internal error: roster crashed; this is a bug, please report it with the lines above\n"},
		{"killed", 1, "roster: internal error: roster was killed (killed), perhaps for running out of memory\n"},
	} {
		t.Run(tc.child, func(t *testing.T) {
			t.Setenv(childEnv, tc.child)
			var stderr strings.Builder
			code, err := Run(os.Args[0], nil, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestRunPassesSIGTERM terminates the parent while its child runs: the child gets the signal,
// stops as it chooses, and its exit code is the parent's.
func TestRunPassesSIGTERM(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	t.Setenv(childEnv, "stops on SIGTERM")
	t.Setenv("READY_FILE", ready)
	done := make(chan int, 1)
	go func() {
		code, err := Run(os.Args[0], nil, os.Stderr)
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child did not start")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 1 {
			t.Errorf("exit %d, want 1 (the child's own after SIGTERM)", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not stop after SIGTERM")
	}
}
