package procgroup

import "syscall"

func sysProcAttr(detached bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if !detached {
		attr.Pdeathsig = syscall.SIGKILL
	}
	return attr
}
