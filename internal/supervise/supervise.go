// Package supervise runs roster in a child process of itself, so that a crash ends with exit
// code 1 like any other error. Go ends a process that panics in any goroutine, or hits a fatal
// runtime error such as running out of memory, with exit code 2 — the code `roster plan
// --detailed-exitcode` gives for "changes present", so a crash would read as drift. The parent
// starts the child with the same arguments, streams and environment, passes SIGINT and SIGTERM
// on, and turns the child's end into roster's exit code: the child exits with Changes where it
// means 2, so a 2 from the child is a crash.
package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

// Env is set in the child's environment.
const Env = "ROSTER_SUPERVISED"

// Changes is the exit code by which the child says 2 ("changes present").
const Changes = 102

// Child reports whether this process is a supervised child.
func Child() bool { return os.Getenv(Env) == "1" }

// ChildExit returns the exit code a child exits with to mean code.
func ChildExit(code int) int {
	if code == 2 {
		return Changes
	}
	return code
}

// ErrUnsupported means children cannot be supervised on this system: they would outlive a
// parent that is killed.
var ErrUnsupported = errors.New("supervision is not supported on " + runtime.GOOS)

// Run runs path with args as a supervised child on this process's streams and returns the exit
// code to end with: the child's, 2 for Changes, and 1 when the child crashed or was killed, after
// saying so on stderr. It fails only when the child cannot be started; run unsupervised then.
func Run(path string, args []string, stderr io.Writer) (int, error) {
	attr, err := sysProcAttr()
	if err != nil {
		return 0, err
	}
	// The child is killed when the thread that started it ends (Linux ties the parent-death
	// signal to the thread): keep this goroutine on its thread for good.
	runtime.LockOSThread()
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), Env+"=1")
	cmd.SysProcAttr = attr
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s) // the child stops as it does on a signal of its own
		}
	}()
	_ = cmd.Wait()
	return exitCode(cmd.ProcessState, stderr), nil
}

// exitCode turns how the child ended into roster's exit code.
func exitCode(state *os.ProcessState, stderr io.Writer) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		fmt.Fprintf(stderr, "roster: internal error: roster was killed (%s), perhaps for running out of memory\n", ws.Signal())
		return 1
	}
	switch code := state.ExitCode(); code {
	case Changes:
		return 2
	case 2:
		fmt.Fprintln(stderr, "roster: internal error: roster crashed; this is a bug, please report it with the lines above")
		return 1
	default:
		return code
	}
}
