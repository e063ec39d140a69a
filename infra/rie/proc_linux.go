package rie

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the emulator in its own process group, so Close stops the
// function process it started too, and has the kernel kill the emulator if
// this process dies without calling Close (a test hitting its -timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(cmd *exec.Cmd, kill bool) { signalUnixGroup(cmd, kill) }
