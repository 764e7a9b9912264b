package utils

import (
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t *testing.T, typ int) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSendRecvFd(t *testing.T) {
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
		a, b := socketPair(t, typ)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := SendFds(a, []byte("/my/pipe"), int(w.Fd())); err != nil {
			t.Fatal(err)
		}
		w.Close()
		got, err := RecvFd(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != "/my/pipe" {
			t.Errorf("name = %q", got.Name())
		}
		flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("received fd is not close-on-exec (flags %#x, %v)", flags, err)
		}
		if _, err := got.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		got.Close()
		data, _ := io.ReadAll(r)
		r.Close()
		if string(data) != "hello" {
			t.Errorf("pipe carried %q", data)
		}
	}
}

func TestSendFdsEmptyMessageOnStream(t *testing.T) {
	a, b := socketPair(t, unix.SOCK_STREAM)
	if err := SendFds(a, nil, int(os.Stdin.Fd())); err != nil {
		t.Fatal(err)
	}
	f, err := RecvFd(b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() == "" || f.Name() == "\x00" {
		t.Errorf("name = %q", f.Name())
	}
}

func TestRecvFdErrors(t *testing.T) {
	a, b := socketPair(t, unix.SOCK_SEQPACKET)
	if _, err := a.Write([]byte("no fd here")); err != nil {
		t.Fatal(err)
	}
	if _, err := RecvFd(b); !errors.Is(err, ErrNoFd) {
		t.Errorf("plain message: err = %v, want ErrNoFd", err)
	}

	// Two fds: both are closed and it is an error.
	if err := SendFds(a, []byte("x"), 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := RecvFd(b); err == nil {
		t.Error("two fds: no error")
	}

	a.Close()
	if _, err := RecvFd(b); !errors.Is(err, ErrNoFd) {
		t.Errorf("closed peer: err = %v", err)
	}

	if err := SendFds(b, []byte("x")); err == nil {
		t.Error("SendFds with no fds: no error")
	}
	if err := SendFds(b, make([]byte, MaxNameLen+1), 0); err == nil {
		t.Error("SendFds with oversized message: no error")
	}
}

func TestRawFdKeepsNonBlocking(t *testing.T) {
	r, w, err := os.Pipe() // os.Pipe fds are non-blocking and polled
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd, err := rawFd(r)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("rawFd changed blocking mode (flags %#x, %v)", fl, err)
	}
}
