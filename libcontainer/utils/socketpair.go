package utils

import (
	"os"

	"golang.org/x/sys/unix"
)

// SocketPair returns both ends of a close-on-exec unix stream socket pair.
func SocketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "socketpair-0"), os.NewFile(uintptr(fds[1]), "socketpair-1"), nil
}
