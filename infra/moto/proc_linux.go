package moto

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts moto in its own process group (Close stops the group, so
// any helper processes go too) and has the kernel kill it if this process
// dies without calling Close, e.g. a test binary hitting its -timeout,
// unless detached.
func sysProcAttr(detached bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if !detached {
		attr.Pdeathsig = syscall.SIGKILL
	}
	return attr
}

func signalGroup(cmd *exec.Cmd, kill bool) { signalUnixGroup(cmd, kill) }
