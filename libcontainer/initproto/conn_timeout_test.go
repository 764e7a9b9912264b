package initproto

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A silent peer makes Recv fail with ErrNoAnswer once the receive timeout
// has run out; a message sent in time is received as usual.
func TestRecvTimeout(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewConn(os.NewFile(uintptr(fds[0]), "a")), NewConn(os.NewFile(uintptr(fds[1]), "b"))
	defer a.Close()
	defer b.Close()
	if err := a.SetRecvTimeout(50e6); err != nil {
		t.Fatal(err)
	}
	_, err = a.Recv()
	if !errors.Is(err, ErrNoAnswer) || err.Error() != "init process sent nothing for 50ms" {
		t.Fatalf("Recv from a silent peer: %v, want ErrNoAnswer for 50ms", err)
	}
	if err := b.Send(Pid, []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if m, err := a.Recv(); err != nil || m.Type != Pid {
		t.Fatalf("Recv after the timeout: %v, %v", m, err)
	}
}
