package libcontainer

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// servePair is the parent's end (an initProc) and a fake init's end of an
// init socket.
func servePair(t *testing.T) (*initProc, *initproto.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := &initProc{conn: initproto.NewConn(os.NewFile(uintptr(fds[0]), "parent"))}
	child := initproto.NewConn(os.NewFile(uintptr(fds[1]), "init"))
	t.Cleanup(func() { p.conn.Close(); child.Close() })
	return p, child
}

// The parent's one reader answers each request with its handler, hands
// the seccomp fd over, and stops at the message it waits for.
func TestServeAnswersRequests(t *testing.T) {
	p, init := servePair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	got := make(chan error, 1)
	go func() {
		got <- func() error {
			if _, err := init.Request(initproto.Hooks, initproto.HooksOK, nil); err != nil {
				return err
			}
			if _, err := init.Request(initproto.Seccomp, initproto.SeccompOK, nil, int(r.Fd())); err != nil {
				return err
			}
			return init.Send(initproto.Ready, nil)
		}()
	}()
	hooks, seccompFd := 0, -1
	m, err := p.serve(&initHandlers{
		hooks: func() error { hooks++; return nil },
		seccomp: func(fd int) error {
			var a, b unix.Stat_t
			unix.Fstat(fd, &a)
			unix.Fstat(int(r.Fd()), &b)
			if a.Ino == b.Ino {
				seccompFd = fd
			}
			return nil
		},
	}, initproto.Ready)
	if err != nil || m.Type != initproto.Ready {
		t.Fatalf("serve: %v, %v", m, err)
	}
	if err := <-got; err != nil {
		t.Fatalf("init side: %v", err)
	}
	if hooks != 1 || seccompFd < 0 {
		t.Errorf("hooks ran %d times, seccomp fd %d (want 1, the pipe)", hooks, seccompFd)
	}
}

// A request with no handler is refused, and the init hears why.
func TestServeRefusesUnexpected(t *testing.T) {
	p, init := servePair(t)
	got := make(chan error, 1)
	go func() {
		_, err := init.Request(initproto.Join, initproto.Joined, nil)
		got <- err
	}()
	if _, err := p.serve(&initHandlers{}, initproto.Ready); err == nil {
		t.Fatal("serve accepted a Join nobody handles")
	}
	var pe *initproto.PeerError
	if err := <-got; !errors.As(err, &pe) {
		t.Errorf("the init got %v, want the parent's error", err)
	}
}

// A handler's failure is the parent's error and is sent to the init; the
// init's own error frame becomes a PeerError; a silent exit is errInitGone.
func TestServeErrors(t *testing.T) {
	p, init := servePair(t)
	if err := init.Send(initproto.Hooks, nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("prestart hook failed")
	if _, err := p.serve(&initHandlers{hooks: func() error { return boom }}, initproto.Ready); !errors.Is(err, boom) {
		t.Errorf("handler failure: %v", err)
	}
	m, err := init.Recv()
	if err != nil || m.Type != initproto.Error || string(m.Payload) != boom.Error() {
		t.Errorf("init received %v, %v; want the handler's error", m, err)
	}

	p, init = servePair(t)
	init.SendError(errors.New("mount /proc: permission denied"))
	var pe *initproto.PeerError
	if _, err := p.serve(&initHandlers{}, initproto.Ready); !errors.As(err, &pe) || pe.Msg != "mount /proc: permission denied" {
		t.Errorf("init error: %v", err)
	}

	p, init = servePair(t)
	init.Close()
	if _, err := p.serve(&initHandlers{}, initproto.Ready); !isInitGone(err) {
		t.Errorf("silent exit: %v, want errInitGone", err)
	}
}

// Exec stops after answering Join (the process then freezes in the
// paused cgroup: there is no exec to wait for).
func TestServeStopsAfterJoin(t *testing.T) {
	p, init := servePair(t)
	if err := init.Send(initproto.Join, nil); err != nil {
		t.Fatal(err)
	}
	joined := false
	m, err := p.serve(&initHandlers{join: func() error { joined = true; return nil }}, initproto.Join)
	if err != nil || m.Type != initproto.Join || !joined {
		t.Fatalf("serve: %v, %v, joined %v", m, err, joined)
	}
	if m, err := init.Recv(); err != nil || m.Type != initproto.Joined {
		t.Errorf("init received %v, %v; want Joined", m, err)
	}
}
