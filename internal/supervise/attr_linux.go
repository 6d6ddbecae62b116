package supervise

import "syscall"

// sysProcAttr makes the kernel kill the child when its parent dies, so that killing roster
// (SIGKILL included) kills the child too.
func sysProcAttr() (*syscall.SysProcAttr, error) {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}, nil
}
