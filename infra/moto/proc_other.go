//go:build !unix

package moto

import (
	"os/exec"
	"syscall"
)

func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
