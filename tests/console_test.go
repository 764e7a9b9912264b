package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// consoleReceiver listens on a unix socket for the pty master that the
// runtime sends with SCM_RIGHTS (the --console-socket protocol).
type consoleReceiver struct {
	path   string
	ln     *net.UnixListener
	master chan *os.File
	errc   chan error
}

func newConsoleReceiver(t *testing.T) *consoleReceiver {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	r := &consoleReceiver{path: path, ln: ln, master: make(chan *os.File, 1), errc: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go r.accept()
	return r
}

func (r *consoleReceiver) accept() {
	conn, err := r.ln.AcceptUnix()
	if err != nil {
		r.errc <- fmt.Errorf("accept console socket: %w", err)
		return
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		r.errc <- fmt.Errorf("recvmsg on console socket: %w", err)
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		r.errc <- fmt.Errorf("parse control message: %w", err)
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for i, fd := range fds {
			if i == 0 {
				r.master <- os.NewFile(uintptr(fd), "pty-master")
			} else {
				unix.Close(fd)
			}
		}
		return
	}
	r.errc <- errors.New("console socket message carried no file descriptor")
}

func (r *consoleReceiver) wait(t *testing.T) *os.File {
	t.Helper()
	select {
	case f := <-r.master:
		t.Cleanup(func() { f.Close() })
		return f
	case err := <-r.errc:
		t.Fatal(err)
	case <-time.After(15 * time.Second):
		t.Fatal("no pty master received on the console socket")
	}
	return nil
}

func TestTerminalConsoleSocket(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo isatty; stty size"), func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 33, Width: 111}
	})
	recv := newConsoleReceiver(t)
	id, _ := createContainer(t, b, "--console-socket", recv.path)
	master := recv.wait(t)
	// The master must be a real pty master.
	if _, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN); err != nil {
		t.Fatalf("received fd is not a pty master: %v", err)
	}
	mustRT(t, "start", id)
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		// Reading ends with EIO once the slave side is closed.
		_, _ = io.Copy(&out, master)
		close(done)
	}()
	waitStatus(t, id, "stopped")
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		master.Close()
		<-done
	}
	got := strings.ReplaceAll(out.String(), "\r", "")
	if !strings.Contains(got, "/dev/pts/0\n") && !strings.Contains(got, "/dev/console\n") {
		t.Errorf("tty inside printed %q, want /dev/pts/0 or /dev/console", got)
	}
	mustContain(t, "isatty", got, "isatty\n")
	mustContain(t, "console size", got, "33 111\n")
}

func TestTerminalWithoutConsoleSocketFails(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Process.Terminal = true })
	id := newID(t)
	_, se, code := rt(t, "create", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("create with terminal:true and no --console-socket succeeded")
	}
	mustContain(t, "error", strings.ReplaceAll(strings.ToLower(se), "-", " "), "console socket")
	assertNoState(t, id)
}

func TestConsoleSocketWithoutTerminalFails(t *testing.T) {
	b := newBundle(t, withArgs("true"))
	recv := newConsoleReceiver(t)
	id := newID(t)
	_, se, code := rt(t, "create", "--console-socket", recv.path, "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("create with --console-socket but terminal:false succeeded")
	}
	mustContain(t, "error", strings.ReplaceAll(strings.ToLower(se), "-", " "), "console socket")
	assertNoState(t, id)
}
