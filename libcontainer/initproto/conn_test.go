package initproto

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t testing.TB) (*Conn, *Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewConn(os.NewFile(uintptr(fds[0]), "a")), NewConn(os.NewFile(uintptr(fds[1]), "b"))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// sameFile reports whether two fds are the same open file.
func sameFile(t *testing.T, a, b int) bool {
	t.Helper()
	var sa, sb unix.Stat_t
	if err := unix.Fstat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestSendRecvWithFds(t *testing.T) {
	a, b := socketPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := a.Send(IDMapTrees, []byte("[1,2]"), int(r.Fd()), int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	m, err := b.Recv()
	if err != nil {
		t.Fatal(err)
	}
	defer m.CloseFds()
	if m.Type != IDMapTrees || string(m.Payload) != "[1,2]" || len(m.Fds) != 2 {
		t.Fatalf("got %s %q %v", m.Type, m.Payload, m.Fds)
	}
	if !sameFile(t, m.Fds[0], int(r.Fd())) || !sameFile(t, m.Fds[1], int(w.Fd())) {
		t.Error("received fds are not the files sent")
	}
	flags, err := unix.FcntlInt(uintptr(m.Fds[0]), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd is not close-on-exec (flags %#x, %v)", flags, err)
	}
}

// A payload larger than the socket buffer arrives in many pieces (and a
// blocking sender may be cut short by a signal): the frame is whole.
func TestLargeFrame(t *testing.T) {
	a, b := socketPair(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	done := make(chan error, 1)
	go func() { done <- a.Send(Config, payload, 0) }()
	m, err := b.Recv()
	if err != nil {
		t.Fatal(err)
	}
	defer m.CloseFds()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Payload, payload) || len(m.Fds) != 1 {
		t.Fatalf("got %d bytes, %d fds; want %d bytes, 1 fd", len(m.Payload), len(m.Fds), len(payload))
	}
}

func TestRecvPeerClosed(t *testing.T) {
	a, b := socketPair(t)
	a.Close()
	if _, err := b.Recv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after close: %v, want ErrClosed", err)
	}
}

// chunked is a fake socket that delivers data n bytes at a time, with the
// fds on the first piece, as the kernel may.
type chunked struct {
	data  []byte
	fds   []int
	sizes []int
}

func (c *chunked) recvmsg(p, oob []byte) (int, int, int, error) {
	n := len(c.data)
	if len(c.sizes) > 0 {
		if s := c.sizes[0]; s > 0 && s < n {
			n = s
		}
		c.sizes = c.sizes[1:]
	}
	if n > len(p) {
		n = len(p)
	}
	copy(p, c.data[:n])
	c.data = c.data[n:]
	oobn := 0
	if len(c.fds) > 0 && n > 0 {
		r := unix.UnixRights(c.fds...)
		oobn = copy(oob, r)
		c.fds = nil
	}
	return n, oobn, 0, nil
}

func (c *chunked) sendmsg(p, oob []byte) (int, error) { return 0, unix.EPIPE }

func TestRecvShortReads(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 6, 7} {
		fd, err := unix.Dup(0)
		if err != nil {
			t.Fatal(err)
		}
		frame := append(Encode(Seccomp, []byte("payload")), Encode(Ready, nil)...)
		sizes := make([]int, 64)
		for i := range sizes {
			sizes[i] = size
		}
		c := &Conn{rw: &chunked{data: frame, fds: []int{fd}, sizes: sizes}}
		m, err := c.Recv()
		if err != nil {
			t.Fatalf("pieces of %d: %v", size, err)
		}
		if m.Type != Seccomp || string(m.Payload) != "payload" || len(m.Fds) != 1 {
			t.Fatalf("pieces of %d: got %s %q %v", size, m.Type, m.Payload, m.Fds)
		}
		m.CloseFds()
		m, err = c.Recv()
		if err != nil || m.Type != Ready || len(m.Payload) != 0 {
			t.Fatalf("pieces of %d: second frame %v, %v", size, m, err)
		}
	}
}

// A frame cut short is ErrClosed, and the fds that came with it are closed.
func TestRecvTruncatedClosesFds(t *testing.T) {
	fd, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	frame := Encode(IDMapTrees, []byte("[0]"))
	c := &Conn{rw: &chunked{data: frame[:len(frame)-1], fds: []int{fd}}}
	if _, err := c.Recv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("truncated frame: %v, want ErrClosed", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("fd of a truncated frame left open (F_GETFD: %v)", err)
	}
}

func TestRecvOversized(t *testing.T) {
	hdr := Encode(Config, nil)
	hdr[1], hdr[2], hdr[3], hdr[4] = 0xff, 0xff, 0xff, 0xff
	c := &Conn{rw: &chunked{data: hdr}}
	_, err := c.Recv()
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized frame: %v", err)
	}
}

func TestExpect(t *testing.T) {
	a, b := socketPair(t)
	if err := a.Send(Error, []byte("mount /proc: EPERM")); err != nil {
		t.Fatal(err)
	}
	_, err := b.Expect(HooksOK)
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Msg != "mount /proc: EPERM" {
		t.Fatalf("Expect on an Error frame: %v, want the peer's message", err)
	}
	if err := a.Send(Ready, nil); err != nil {
		t.Fatal(err)
	}
	_, err = b.Expect(HooksOK)
	var ue *UnexpectedError
	if !errors.As(err, &ue) || ue.Got != Ready {
		t.Fatalf("Expect on a wrong type: %v", err)
	}
}

func TestRequest(t *testing.T) {
	a, b := socketPair(t)
	go func() {
		m, err := b.Recv()
		if err != nil || m.Type != Join {
			b.SendError(errors.New("bad request"))
			return
		}
		b.Send(Joined, nil)
	}()
	if _, err := a.Request(Join, Joined, nil); err != nil {
		t.Fatal(err)
	}
}

// TestBootstrapCgroupTasks: the "g" records carry absolute `tasks` paths;
// a relative path, a NUL or too many are refused in Go.
func TestBootstrapCgroupTasks(t *testing.T) {
	b := BootstrapData{CgroupTasks: []string{"/sys/fs/cgroup/pids/x/tasks", "/sys/fs/cgroup/cpu/x/tasks"}}
	frame, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	payload := string(frame[HeaderSize:])
	if !strings.Contains(payload, "g/sys/fs/cgroup/pids/x/tasks\x00g/sys/fs/cgroup/cpu/x/tasks\x00") {
		t.Errorf("payload %q lacks the g records in order", payload)
	}
	for _, bad := range [][]string{{"rel/tasks"}, {""}, {"/a\x00b"}, make([]string, MaxCgroupTasks+1)} {
		if bad[len(bad)-1] == "" && len(bad) > 1 {
			for i := range bad {
				bad[i] = "/t"
			}
		}
		if _, err := (&BootstrapData{CgroupTasks: bad}).Encode(); err == nil {
			t.Errorf("Encode(%q...) accepted", bad[0])
		}
	}
}
