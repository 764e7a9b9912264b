package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// testPty is a pseudo-terminal the test owns: rt runs with the slave as
// stdin, stdout, stderr and controlling terminal, as under an interactive
// shell.
type testPty struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
	done          chan struct{}
}

func newTestPty(t *testing.T) *testPty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx (kernel without CONFIG_UNIX98_PTYS?): %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Raw: every injected byte would count in TIOCINQ, not only lines.
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	p := &testPty{master: m, slave: s, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return p
}

// run runs rt with args on the pty, in a session of its own with the pty
// as controlling terminal, and returns its exit code.
func (p *testPty) run(t *testing.T, args ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", ctxFor(t).root}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err := cmd.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("rt %v: %v", args, err)
	}
	return 0
}

// output waits until the probe's last line is in, and returns all.
func (p *testPty) output(t *testing.T) string {
	t.Helper()
	var s string
	pollUntil(5*time.Second, func() bool {
		p.mu.Lock()
		s = p.out.String()
		p.mu.Unlock()
		return strings.Contains(s, "done")
	})
	return s
}

// pendingInput is how many bytes wait in the terminal's input queue.
func (p *testPty) pendingInput(t *testing.T) int {
	n, err := unix.IoctlGetInt(int(p.slave.Fd()), unix.TIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func checkNoInjection(t *testing.T, what string, p *testPty) {
	t.Helper()
	out := p.output(t)
	if !strings.Contains(out, "done") {
		t.Fatalf("%s: the probe did not finish; output %q", what, out)
	}
	if strings.Contains(out, "INJECTED") {
		t.Errorf("%s: the container pushed input into the caller's terminal:\n%s", what, out)
	}
	if n := p.pendingInput(t); n != 0 {
		t.Errorf("%s: %d bytes wait in the caller's terminal's input queue", what, n)
	}
}

func tiocstiBundle(t *testing.T, args ...string) *bundle {
	probe := goTestBinary(t, "tiocsti")
	b := newBundle(t, withArgs(args...), func(s *specs.Spec) {
		// The strongest case: CAP_SYS_ADMIN lets TIOCSTI reach a terminal
		// that is not the caller's controlling one, so a new session alone
		// would not stop it.
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
	})
	copyBinary(t, probe, filepath.Join(b.Rootfs, "tiocsti"))
	return b
}

// TestRunNoTerminalCannotInjectIntoCallerTTY: with terminal false and rt
// on a terminal, the container's process (even with CAP_SYS_ADMIN) cannot
// push input into that terminal with TIOCSTI: it holds pipes, not the
// terminal (as runc's foreground stdio).
func TestRunNoTerminalCannotInjectIntoCallerTTY(t *testing.T) {
	b := tiocstiBundle(t, "/tiocsti")
	p := newTestPty(t)
	if code := p.run(t, "run", "--bundle", b.Dir, newID(t)); code != 0 {
		t.Fatalf("run: exit %d; output %q", code, p.output(t))
	}
	checkNoInjection(t, "run", p)
}

// TestExecNoTerminalCannotInjectIntoCallerTTY: the same for `exec`.
func TestExecNoTerminalCannotInjectIntoCallerTTY(t *testing.T) {
	b := tiocstiBundle(t, "sleep", "1000")
	id, _ := startContainer(t, b)
	p := newTestPty(t)
	if code := p.run(t, "exec", id, "/tiocsti"); code != 0 {
		t.Fatalf("exec: exit %d; output %q", code, p.output(t))
	}
	checkNoInjection(t, "exec", p)
}

// keyCheck runs rt with args (containing "@KEYID@") from a session keyring
// holding a user key, and checks that `keyprobe check` in the container
// neither finds nor reads it.
func keyCheck(t *testing.T, what, desc string, args ...string) {
	t.Helper()
	probe := goTestBinary(t, "keyprobe")
	full := append([]string{"wrap", desc, rtBinary, "--root", ctxFor(t).root}, args...)
	r := runBinary(probe, full, nil, "", nil)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "search: ") || !strings.Contains(r.stdout, "read: ") {
		t.Fatalf("%s: probe output %q", what, r.stdout)
	}
	if strings.Contains(r.stdout, "FOUND") || strings.Contains(r.stdout, "READ") {
		t.Errorf("%s: the container's process reaches its caller's session keyring:\n%s", what, r.stdout)
	}
}

// TestExecOwnSessionKeyring: a process started by `rt exec` gets the
// container's session keyring, not the caller's (as `rt run` and runc):
// a key of the caller's session can be neither found nor read.
func TestExecOwnSessionKeyring(t *testing.T) {
	probe := goTestBinary(t, "keyprobe")
	desc := fmt.Sprintf("rt-test-key-%d-%d", os.Getpid(), idCounter.Add(1))
	b := newBundle(t, withArgs("sleep", "1000"))
	copyBinary(t, probe, filepath.Join(b.Rootfs, "keyprobe"))
	id, _ := startContainer(t, b)
	keyCheck(t, "exec", desc, "exec", id, "/keyprobe", "check", desc, "@KEYID@")

	// run: the key's id cannot reach config.json; the search must fail.
	b2 := newBundle(t, withArgs("/keyprobe", "check", desc, "0"))
	copyBinary(t, probe, filepath.Join(b2.Rootfs, "keyprobe"))
	keyCheck(t, "run", desc, "run", "--bundle", b2.Dir, newID(t))
}
