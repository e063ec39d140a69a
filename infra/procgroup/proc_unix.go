//go:build unix

package procgroup

import (
	"os/exec"
	"syscall"
)

func signal(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	// A negative pid addresses the process group started with Setpgid.
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
