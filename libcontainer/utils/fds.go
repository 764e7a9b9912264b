package utils

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// MaxNameLen is the longest message SendFds sends and RecvFd accepts; runc
// uses the same bound for the file name sent along with a file.
const MaxNameLen = 4096

// ErrNoFd is returned by RecvFd when a message carries no file descriptor.
var ErrNoFd = errors.New("no file descriptor received")

// SendFds sends msg with fds attached (SCM_RIGHTS) over the unix socket sock.
// An empty msg is sent as one NUL byte, because a stream socket drops
// ancillary data that comes with no payload.
func SendFds(sock *os.File, msg []byte, fds ...int) error {
	if len(fds) == 0 {
		return errors.New("send fds: no fds given")
	}
	if len(msg) > MaxNameLen {
		return fmt.Errorf("send fds: message of %d bytes exceeds %d", len(msg), MaxNameLen)
	}
	if len(msg) == 0 {
		msg = []byte{0}
	}
	rc, err := sock.SyscallConn()
	if err != nil {
		return fmt.Errorf("send fds over %s: %w", sock.Name(), err)
	}
	oob := unix.UnixRights(fds...)
	var sendErr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			sendErr = unix.Sendmsg(int(fd), msg, oob, nil, 0)
			if !errors.Is(sendErr, unix.EINTR) {
				return !errors.Is(sendErr, unix.EAGAIN)
			}
		}
	})
	if err == nil {
		err = sendErr
	}
	if err != nil {
		return fmt.Errorf("send fds over %s: %w", sock.Name(), err)
	}
	return nil
}

// RecvFd receives one message carrying exactly one file descriptor from the
// unix socket sock and returns the descriptor as a file named by the message
// (runc sends the file's name). The descriptor is close-on-exec. Extra
// descriptors in the message are closed and make it an error.
func RecvFd(sock *os.File) (*os.File, error) {
	rc, err := sock.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("receive fd over %s: %w", sock.Name(), err)
	}
	buf := make([]byte, MaxNameLen)
	oob := make([]byte, unix.CmsgSpace(4*4)) // room to notice unwanted extra fds
	var n, oobn, flags int
	var recvErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, flags, _, recvErr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
			if !errors.Is(recvErr, unix.EINTR) {
				return !errors.Is(recvErr, unix.EAGAIN)
			}
		}
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return nil, fmt.Errorf("receive fd over %s: %w", sock.Name(), err)
	}

	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("receive fd over %s: %w", sock.Name(), err)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		closeAll(fds)
		return nil, fmt.Errorf("receive fd over %s: control message truncated (too many fds)", sock.Name())
	}
	switch len(fds) {
	case 0:
		if n == 0 {
			return nil, fmt.Errorf("receive fd over %s: %w: peer closed the connection", sock.Name(), ErrNoFd)
		}
		return nil, fmt.Errorf("receive fd over %s: %w", sock.Name(), ErrNoFd)
	case 1:
	default:
		closeAll(fds)
		return nil, fmt.Errorf("receive fd over %s: got %d fds, want 1", sock.Name(), len(fds))
	}
	name := string(buf[:n])
	if name == "\x00" || name == "" {
		name = "fd:" + strconv.Itoa(fds[0])
	}
	return os.NewFile(uintptr(fds[0]), name), nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// rawFd returns f's descriptor without os.File.Fd's side effect of putting
// it into blocking mode.
func rawFd(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(p uintptr) { fd = int(p) }); err != nil {
		return -1, err
	}
	return fd, nil
}
