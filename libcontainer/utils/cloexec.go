package utils

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseExecFrom marks every open file descriptor >= minFd close-on-exec, so
// that programs the runtime starts afterwards inherit only what it passes to
// them explicitly (exec.Cmd's ExtraFiles are duplicated without the flag, so
// they still work). Descriptors Go opens are already close-on-exec; this
// catches the ones the runtime itself inherited from its caller.
func CloseExecFrom(minFd int) error {
	if minFd < 0 {
		minFd = 0
	}
	err := unix.CloseRange(uint(minFd), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	if err != unix.ENOSYS && err != unix.EINVAL {
		return fmt.Errorf("close_range(%d, ~0, CLOEXEC): %w", minFd, err)
	}
	// Kernels before 5.11: walk /proc/self/fd.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < minFd {
			continue
		}
		// The directory's own fd is closed by now and gives EBADF.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return fmt.Errorf("mark fd %d close-on-exec: %w", fd, err)
		}
	}
	return nil
}
