// Package procgroup runs helper servers (moto_server, aws-lambda-rie) in
// their own process group, so stopping one stops whatever it spawned, and,
// on Linux, has the kernel kill it if this process dies first (a test
// binary hitting its -timeout).
package procgroup

import (
	"fmt"
	"os/exec"
	"time"
)

// Attr configures cmd before Start; detached servers outlive this process.
func Attr(cmd *exec.Cmd, detached bool) { cmd.SysProcAttr = sysProcAttr(detached) }

// Stop sends the group SIGTERM, then SIGKILL after grace, and waits up to
// grace more for done (closed when cmd has exited).
func Stop(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) error {
	signal(cmd, false)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	signal(cmd, true)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("process %d did not exit", cmd.Process.Pid)
	}
}
