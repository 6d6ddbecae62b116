// Package peakrss runs a command and measures its peak resident memory, for tests and
// benchmarks that hold roster to a memory budget.
//
// The maximum resident set that Linux reports for a child (ProcessState.SysUsage) is not the
// child's own when the parent is large: Go starts children with vfork, which shares the
// parent's memory until exec, and exec keeps the high-water mark of the memory it leaves. In
// make bench, roster's converged apply on 1,000 users reported 145 MB once the benchmark process
// had seeded 100,000 users, and plan on the same realm 23 MB before. So the command is started
// from a small process instead: the test binary itself, run again, which
// starts the command, waits for it and writes its maximum resident set to a file. What is
// reported is exact down to that process's own (some 10 MB).
package peakrss

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// envOut names the file the starting process writes the command's peak to; its presence tells
// Main that this process is one.
const envOut = "PEAKRSS_OUT"

// Main makes the test binary able to start commands for Run. A package whose tests call Run
// calls it first in its TestMain; in an ordinary test run it returns at once.
func Main() {
	out := os.Getenv(envOut)
	if out == "" {
		return
	}
	os.Unsetenv(envOut)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "peakrss: no command to start")
		os.Exit(1)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(1)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if werr := os.WriteFile(out, []byte(strconv.FormatInt(rss, 10)), 0o600); werr != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", werr)
		os.Exit(1)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		// Ended by a signal, as the command was: os.Exit(-1) would turn that into exit 255.
		signal.Reset(ws.Signal())
		syscall.Kill(os.Getpid(), ws.Signal())
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

// Run runs cmd, prepared as for exec.Cmd.Run (Path, Args, Env, Dir and the standard streams are
// used), and returns its peak resident memory in KiB with cmd's error: an *exec.ExitError with
// the command's exit code when it failed. cmd itself is not started; its ProcessState is set.
func Run(cmd *exec.Cmd) (int64, error) {
	f, err := os.CreateTemp("", "peakrss")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	starter := exec.Command(os.Args[0], append([]string{cmd.Path}, cmd.Args[1:]...)...)
	starter.Env = append(env[:len(env):len(env)], envOut+"="+f.Name())
	starter.Dir, starter.Stdin, starter.Stdout, starter.Stderr = cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr
	runErr := starter.Run()
	cmd.ProcessState = starter.ProcessState
	data, err := os.ReadFile(f.Name())
	if err != nil || len(data) == 0 {
		return 0, errors.Join(runErr, fmt.Errorf("peakrss: %s did not report its peak: is peakrss.Main called in TestMain?", cmd.Path))
	}
	rss, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, errors.Join(runErr, err)
	}
	return rss, runErr
}
