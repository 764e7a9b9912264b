package utils

import (
	"os"

	"golang.org/x/sys/unix"
)

// SocketPair returns both ends of a close-on-exec unix stream socket pair,
// as files named name0 and name1 (the names appear in errors).
func SocketPair(name0, name1 string) (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), name0), os.NewFile(uintptr(fds[1]), name1), nil
}
