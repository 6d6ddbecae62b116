package peakrss

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// envAlloc makes the test binary a command that touches that many MiB and exits 3.
const envAlloc = "PEAKRSS_TEST_ALLOC_MIB"

func TestMain(m *testing.M) {
	Main()
	if s := os.Getenv(envAlloc); s != "" {
		mib, _ := strconv.Atoi(s)
		b := make([]byte, mib<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		os.Exit(3 + int(b[0]) - 1)
	}
	os.Exit(m.Run())
}

// TestRunIsTheCommandsOwn: from a test process holding 256 MiB, a command that holds little
// reports little, where the rusage of a command started directly reports the test process's
// 256 MiB; a command that touches 128 MiB reports them, and its exit code comes back.
func TestRunIsTheCommandsOwn(t *testing.T) {
	held := make([]byte, 256<<20)
	for i := 0; i < len(held); i += 4096 {
		held[i] = 1
	}
	direct := exec.Command("true")
	if err := direct.Run(); err != nil {
		t.Fatal(err)
	}
	t.Logf("true started directly: %d MiB", direct.ProcessState.SysUsage().(*syscall.Rusage).Maxrss>>10)

	rss, err := Run(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("true started by Run: %d MiB", rss>>10)
	if rss > 96<<10 {
		t.Errorf("true reported %d MiB, want the few MiB of the process that started it, not the test process's 256", rss>>10)
	}

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envAlloc+"=128")
	rss, err = Run(cmd)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("Run = %v, want exit code 3", err)
	}
	// At least what it touched; more under the race detector, which shadows what it touches.
	if rss < 128<<10 {
		t.Errorf("a command touching 128 MiB reported %d MiB", rss>>10)
	}
	held[0]++
}

// TestRunKeepsTheSignal: a command ended by a signal is reported so, not as an exit code.
func TestRunKeepsTheSignal(t *testing.T) {
	cmd := exec.Command("sh", "-c", "kill -KILL $$")
	_, err := Run(cmd)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL || cmd.ProcessState.ExitCode() != -1 {
		t.Errorf("Run = %v (%v), want the command killed by SIGKILL", err, cmd.ProcessState)
	}
}
