package utils

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxSunPath is the room for a path in struct sockaddr_un, less the NUL.
const maxSunPath = len(unix.RawSockaddrUnix{}.Path) - 1

// ConnectConsoleSocket connects to the unix stream socket at path (the
// --console-socket argument) and returns the connection as a blocking file.
// Paths too long for sockaddr_un are reached through their parent directory
// under /proc/self/fd.
func ConnectConsoleSocket(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socket %q: create socket: %w", path, err)
	}
	addr := path
	if len(path) > maxSunPath {
		dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("console socket %q: open parent directory: %w", path, err)
		}
		defer unix.Close(dir)
		addr = "/proc/self/fd/" + strconv.Itoa(dir) + "/" + filepath.Base(path)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: addr})
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("console socket %q: connect: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SendConsole sends the pty master over socket as runc does: one message
// whose payload is master's name (e.g. "/dev/ptmx") with the master's fd
// attached.
func SendConsole(socket *os.File, master *os.File) error {
	fd, err := rawFd(master)
	if err != nil {
		return fmt.Errorf("send console %s: %w", master.Name(), err)
	}
	if err := SendFds(socket, []byte(master.Name()), fd); err != nil {
		return fmt.Errorf("send console %s: %w", master.Name(), err)
	}
	return nil
}
