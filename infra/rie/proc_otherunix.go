//go:build unix && !linux

package rie

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the emulator in its own process group so Close stops the
// function too. There is no parent-death signal here: Close must run.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(cmd *exec.Cmd, kill bool) { signalUnixGroup(cmd, kill) }
