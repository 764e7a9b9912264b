package system

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseExecFrom marks every open file descriptor >= minFd close-on-exec, so
// that no host fd reaches the container process at execve. It uses
// close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11) and falls back to walking
// /proc/self/fd.
func CloseExecFrom(minFd int) error {
	if minFd < 0 {
		minFd = 0
	}
	err := unix.CloseRange(uint(minFd), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("close_range(%d, ~0, CLOSE_RANGE_CLOEXEC): %w", minFd, err)
	}
	return closeExecFromProc(minFd)
}

func closeExecFromProc(minFd int) error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("mark fds close-on-exec: read /proc/self/fd: %w", err)
	}
	self := int(d.Fd())
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < minFd || fd == self {
			continue
		}
		// EBADF: the fd was closed meanwhile, nothing to do.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("mark fd %d close-on-exec: %w", fd, err)
		}
	}
	return nil
}
