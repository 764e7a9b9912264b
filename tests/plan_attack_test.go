package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
