//go:build !unix

package procgroup

import (
	"os/exec"
	"syscall"
)

func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

func signal(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
