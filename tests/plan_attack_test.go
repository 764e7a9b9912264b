package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
		s.Linux.Seccomp = agent.filter("umask")
	})
	done := rtAsync(t, "exec", "-d", id, "sleep", "1000")
	hostPid := agent.waitHeld(t, done, "umask")
	nsPid := nsPidOf(t, hostPid)
	// The attack, from inside the container.
	if so, se, code := rt(t, "exec", id, "kill", "-STOP", nsPid); code != 0 {
		t.Fatalf("kill -STOP %s from the container: exit %d: %s %s", nsPid, code, so, se)
	}
	close(agent.release)
	expectStopped(t, done, hostPid, "exec whose process was stopped before execve")
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

// TestCreatedInitFakeProcFifo: the container's init reopens the exec fifo
// through /proc/self/fd/N after it took the container's root. In a
// container without a /proc mount, /proc is the image's own directory: an
// image with a regular file at each /proc/self/fd/N must not make the init
// take that file for the exec fifo (write its "0" there and run the
// process at create, before `rt start`; CVE-2025-52881 class: a write
// redirected by a fake /proc). The init must refuse, and start must fail
// with an error instead of running the process.
func TestCreatedInitFakeProcFifo(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "echo ran >/ran"), func(s *specs.Spec) {
		var mounts []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/proc" {
				mounts = append(mounts, m)
			}
		}
		s.Mounts = mounts
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
	})
	// /proc/self/fd/N -> /fake/N, a regular file (a symlink, so that what
	// the set-up reads there with readlink passes).
	fakeFd, files := filepath.Join(b.Rootfs, "proc", "self", "fd"), filepath.Join(b.Rootfs, "fake")
	for _, d := range []string{fakeFd, files} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 64; n++ {
		if err := os.WriteFile(filepath.Join(files, strconv.Itoa(n)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/fake/"+strconv.Itoa(n), filepath.Join(fakeFd, strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	id := newID(t)
	if _, se, code := rt(t, "create", "--bundle", b.Dir, id); code != 0 {
		t.Logf("create refused it: %s", se)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(b.Rootfs, "ran")); err == nil {
		t.Fatal("the container's process ran at create, before rt start (its init took the image's /proc/self/fd/N for the exec fifo)")
	}
	for n := 0; n < 64; n++ {
		if data, _ := os.ReadFile(filepath.Join(files, strconv.Itoa(n))); len(data) != 0 {
			t.Errorf("the init wrote %q into the image's /proc/self/fd/%d", data, n)
		}
	}
	so, se, code := rt(t, "start", id)
	t.Logf("start: exit %d: %s %s", code, so, se)
	if _, err := os.Stat(filepath.Join(b.Rootfs, "ran")); err == nil {
		t.Error("the process ran without the real exec fifo")
	}
	if code == 0 {
		t.Errorf("start with a fake /proc/self/fd in the image: exit 0 (%q); want a failure", se)
	}
}

// TestExecTtyPtmxReplaced: rt exec --tty opens the container's /dev/ptmx.
// A container that replaced it (a FIFO; a symlink to /dev/tty, which is
// rt exec's own controlling terminal, a host terminal; to /dev/null) must
// get a bounded failure, and nothing but a pty master of the container
// may reach the console socket or the process.
func TestExecTtyPtmxReplaced(t *testing.T) {
	_, id, pid := sleeper(t)
	// rt exec runs with a host pty as its controlling terminal, as from
	// an operator's shell.
	hostMaster, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hostMaster.Close()
	if err := unix.IoctlSetPointerInt(int(hostMaster.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(hostMaster.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	hostSlave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hostSlave.Close()
	root := ctxFor(t).root
	for _, c := range []struct{ name, target string }{{"fifo", ""}, {"tty", "/dev/tty"}, {"null", "/dev/null"}} {
		t.Run(c.name, func(t *testing.T) {
			// The container's /dev is its own tmpfs: reach it through the
			// container's root.
			dev := fmt.Sprintf("/proc/%d/root/dev/ptmx", pid)
			os.Remove(dev)
			if c.target == "" {
				if err := unix.Mkfifo(dev, 0o666); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(c.target, dev); err != nil {
				t.Fatal(err)
			}
			recv := newConsoleReceiver(t)
			cmd := exec.Command(rtBinary, "--root", root, "exec", "-t", "--console-socket", recv.path, id, "echo", "PWNED")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = hostSlave, hostSlave, hostSlave
			var errBuf strings.Builder
			cmd.Stderr = &errBuf
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("exec -t with /dev/ptmx a %s: succeeded", c.name)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("exec -t with /dev/ptmx a %s: no end", c.name)
			}
			if se := errBuf.String(); !strings.Contains(se, "not the pty multiplexer") {
				t.Errorf("exec -t with /dev/ptmx a %s: %q; want it refused before any pty ioctl", c.name, se)
			}
			select {
			case f := <-recv.master:
				defer f.Close()
				if _, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPTN); err != nil {
					t.Errorf("exec -t with /dev/ptmx a %s sent a non-pty-master to the console socket", c.name)
				}
			default:
			}
		})
	}
}

// TestStartInitStoppedBounded: a created container that joined another
// container's pid namespace: its init is not that namespace's init, so a
// process of the other container may stop it (SIGSTOP) while it waits for
// start. rt start must not wait for it for ever: it fails, says why, and
// the container's init is gone.
func TestStartInitStoppedBounded(t *testing.T) {
	_, idA, pidA := sleeper(t)
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", pidA)
			}
		}
	})
	id, pid := createContainer(t, b)
	nsPid := nsPidOf(t, pid)
	// The attack, from the other container.
	if so, se, code := rt(t, "exec", idA, "kill", "-STOP", nsPid); code != 0 {
		t.Fatalf("kill -STOP %s from the other container: exit %d: %s %s", nsPid, code, so, se)
	}
	expectStopped(t, rtAsync(t, "start", id), pid, "start of a container whose init was stopped")
}

// TestExecParentKilledDoesNotStart: rt exec is killed (its caller's
// timeout, say) while its process is still getting ready in the container
// (held in its chdir). The plan already waits in the socket, but nobody
// waits for the process any more: it must not start, and must be gone.
func TestExecParentKilledDoesNotStart(t *testing.T) {
	agent := newHoldingAgent(t)
	b, id, _ := sleeper(t, func(s *specs.Spec) {
		s.Linux.Seccomp = agent.filter("chdir")
	})
	cmd := exec.Command(rtBinary, "--root", ctxFor(t).root, "exec", "-d", "--cwd", "/tmp", id, "sh", "-c", "echo ran >/ran")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var hostPid int
	select {
	case hostPid = <-agent.held:
	case err := <-done:
		t.Fatalf("exec finished (%v) without its chdir reaching the listener", err)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("exec's process never reached its chdir")
	}
	cmd.Process.Kill()
	<-done
	close(agent.release)
	if !pollUntil(5*time.Second, func() bool { return unix.Kill(hostPid, 0) != nil }) {
		t.Errorf("rt exec's process %d is still there after rt exec was killed", hostPid)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(b.Rootfs, "ran")); err == nil {
		t.Error("the process of a killed rt exec ran in the container")
	}
}

// TestFakeProcReadonlyPathRefused: the set-up checks each read-only or
// masked path through /proc/self/fd after pivot_root. In a container
// without a /proc mount that is the image's directory: fake fd links there
// (all naming /decoy) pass the check and send the read-only bind onto
// /decoy, leaving the configured path unprotected. (The init then dies at
// its exec fifo, TestCreatedInitFakeProcFifo, so nothing runs there.)
// Create must refuse at once, naming /proc, instead of reporting the
// container created.
func TestFakeProcReadonlyPathRefused(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		var mounts []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/proc" {
				mounts = append(mounts, m)
			}
		}
		s.Mounts = mounts
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = []string{"/ro"}
	})
	fakeFd := filepath.Join(b.Rootfs, "proc", "self", "fd")
	for _, d := range []string{fakeFd, filepath.Join(b.Rootfs, "decoy"), filepath.Join(b.Rootfs, "ro")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 64; n++ {
		if err := os.Symlink("/decoy", filepath.Join(fakeFd, strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	id := newID(t)
	_, se, code := rt(t, "create", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("create with a fake /proc in the image and a read-only path succeeded")
	}
	if !strings.Contains(se, "/proc is not a procfs") {
		t.Errorf("create with a fake /proc and a read-only path: exit %d, %q; want it refused naming /proc", code, se)
	}
}
