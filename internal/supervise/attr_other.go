//go:build !linux

package supervise

import "syscall"

// sysProcAttr refuses: without Linux's parent-death signal a child would outlive a parent that
// is killed.
func sysProcAttr() (*syscall.SysProcAttr, error) { return nil, ErrUnsupported }
