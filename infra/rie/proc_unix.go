//go:build unix

package rie

import (
	"os/exec"
	"syscall"
)

func signalUnixGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	// A negative pid addresses the process group started with Setpgid.
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
