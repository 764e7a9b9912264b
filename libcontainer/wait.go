package libcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// SetSubreaper makes the calling process the reaper of its orphaned
// descendants, so that `rt run` can wait for the container's init.
func SetSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// Wait waits for the container's init to exit and returns its exit status
// as a shell reports it (128+N when killed by signal N). It works when the
// init is our child (rt run as subreaper); otherwise it waits for the
// process to go away and reports 0: its status is not ours to read.
func (c *Container) Wait() (int, error) {
	pid := c.state.InitPid
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ECHILD) {
			// Not our child (--no-subreaper): wait for it to go away.
			waitGone(pid, c.state.InitStart, 1<<62)
			return 0, nil
		}
		if err != nil {
			return -1, fmt.Errorf("wait for container init: %w", err)
		}
		switch {
		case ws.Exited():
			return ws.ExitStatus(), nil
		case ws.Signaled():
			return 128 + int(ws.Signal()), nil
		}
	}
}
