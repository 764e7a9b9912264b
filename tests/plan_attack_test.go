package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Attacks on the C stage that prepares the container's processes (plan.c,
// pid1.c, nsenter.c) from an image or a container that an attacker
// controls: each test performs the attack with the real binary and asserts
// that it fails safely.

// TestExecPasswdPtyNotControllingTerminal: rt exec's process looks HOME up
// in the container's /etc/passwd after it made a session of its own (no
// controlling terminal). A container that replaces /etc/passwd with a
// symlink to a pty whose master it holds must not give the process that
// pty as its controlling terminal: else the attacker's keystrokes reach
// whatever the process reads from /dev/tty (a password or a "yes"
// prompt), and it can signal it through the terminal.
func TestExecPasswdPtyNotControllingTerminal(t *testing.T) {
	b, id, pid := sleeper(t)
	// The attacker's pty in the container's devpts (opened from the host
	// through the container's root, as a container process would open
	// its /dev/ptmx).
	master, err := os.OpenFile(fmt.Sprintf("/proc/%d/root/dev/ptmx", pid), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(b.Rootfs, "etc", "passwd")
	os.Remove(passwd)
	if err := os.Symlink("/dev/pts/"+strconv.Itoa(n), passwd); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("INJECTED\n")); err != nil {
		t.Fatal(err)
	}
	so, se, code := rt(t, "exec", "--env", "PATH=/bin", id, "sh", "-c",
		`read l </dev/tty 2>/dev/null && echo "read:$l"; echo "tty_nr:$(cut -d' ' -f7 /proc/self/stat)"; echo "home:$HOME"`)
	if code != 0 {
		t.Fatalf("exec: exit %d: %s", code, se)
	}
	if strings.Contains(so, "read:") || !strings.Contains(so, "tty_nr:0\n") {
		t.Errorf("rt exec's process got the container's pty (its /etc/passwd) as controlling terminal:\n%s", so)
	}
	if !strings.Contains(so, "home:/\n") {
		t.Errorf("HOME with an /etc/passwd that is not a file: want /:\n%s", so)
	}
}

// TestExecHelperStoppedBounded: a container process stops rt exec's process
// (SIGSTOP; root in the container may signal it) before it execs. rt exec
// must not wait for it for ever: it fails with an error that says why, and
// the stopped process is gone.
func TestExecHelperStoppedBounded(t *testing.T) {
	agent := newHoldingAgent(t)
	_, id, _ := sleeper(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  agent.path,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"umask"}, Action: specs.ActNotify}},
		}
	})
	type res struct {
		errOut string
		code   int
	}
	done := make(chan res, 1)
	go func() {
		_, se, code := rt(t, "exec", "-d", id, "sleep", "1000")
		done <- res{se, code}
	}()
	var hostPid int
	select {
	case hostPid = <-agent.held:
	case r := <-done:
		t.Fatalf("exec finished (exit %d: %s) without its umask reaching the listener", r.code, r.errOut)
	case <-time.After(20 * time.Second):
		t.Fatal("exec's process never reached its umask")
	}
	nsPid := nsPidOf(t, hostPid)
	// The attack, from inside the container.
	if so, se, code := rt(t, "exec", id, "kill", "-STOP", nsPid); code != 0 {
		t.Fatalf("kill -STOP %s from the container: exit %d: %s %s", nsPid, code, so, se)
	}
	close(agent.release)
	select {
	case r := <-done:
		if r.code == 0 || !strings.Contains(r.errOut, "stopped") {
			t.Errorf("exec whose process was stopped before execve: exit %d, %q; want a failure that says it was stopped", r.code, r.errOut)
		}
		t.Logf("rt exec: %s", r.errOut)
	case <-time.After(30 * time.Second):
		unix.Kill(hostPid, unix.SIGKILL)
		t.Fatal("rt exec waits for ever on its process stopped by the container (SIGSTOP)")
	}
	if !pollUntil(5*time.Second, func() bool { return unix.Kill(hostPid, 0) != nil }) {
		t.Errorf("the stopped process %d is still there after rt exec failed", hostPid)
	}
}

func nsPidOf(t *testing.T, hostPid int) string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", hostPid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "NSpid:" {
			return f[len(f)-1]
		}
	}
	t.Fatalf("no NSpid for %d", hostPid)
	return ""
}
