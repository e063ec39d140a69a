//go:build unix && !linux

package procgroup

import "syscall"

// No parent-death signal here: callers must Stop.
func sysProcAttr(bool) *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
