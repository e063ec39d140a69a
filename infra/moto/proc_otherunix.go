//go:build unix && !linux

package moto

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts moto in its own process group so Close stops helpers too.
// There is no parent-death signal here: RunTests must stop it.
func sysProcAttr(bool) *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(cmd *exec.Cmd, kill bool) { signalUnixGroup(cmd, kill) }
