package tests

import (
	"encoding/json"
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

// The container's init of `rt create` is a C process (nsenter/pid1.c): a
// forked Go child does the set-up and exits before create returns. These
// tests read what the kernel shows of that init while the container is
// created.

// initChildren returns the children of pid (its only thread's).
func initChildren(t *testing.T, pid int) string {
	t.Helper()
	return strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)))
}

// TestCreatedInitIsC: while created, the init is one thread (a Go runtime
// has several) running rt-stage, its set-up child is gone (or was never
// there), and the container's memory cgroup is charged less than 1 MiB (a
// Go init: ~2 MiB).
func TestCreatedInitIsC(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := createContainer(t, b)
	st := procStatus(t, pid)
	if st["Threads"] != "1" {
		t.Errorf("created init %d: Threads %q, want 1 (no Go runtime)", pid, st["Threads"])
	}
	if c := initChildren(t, pid); c != "" {
		t.Errorf("created init %d still has children %q: the set-up process must be gone", pid, c)
	}
	t.Logf("created init: VmRSS %s, RssAnon %s", st["VmRSS"], st["RssAnon"])
	// The set-up in C: the init never returns into Go, so it runs the small
	// rt-stage program (a sealed memfd, as rt exec's C stage), not rt.
	if link, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || !strings.HasPrefix(link, "/memfd:rt-stage") {
		t.Errorf("created init %d runs %q (%v), want the rt-stage memfd", pid, link, err)
	}
	checkCreatedInitFds(t, pid, 0)
	if mem, ok := cgroupDirsOf(pid)["memory"]; ok {
		data, err := os.ReadFile(filepath.Join(mem, "memory.usage_in_bytes"))
		if err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
			t.Logf("memory cgroup charge after create: %d bytes", n)
			if n >= 1<<20 {
				t.Errorf("memory cgroup charge after create: %d bytes, want < 1 MiB", n)
			}
		}
	} else {
		t.Log("no memory cgroup v1 hierarchy for the container: charge not checked")
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
	if got := procStatus(t, pid)["Name"]; got != "sleep" {
		t.Errorf("started container's pid 1 is %q, want sleep", got)
	}
}

// checkCreatedInitFds: while created, the init holds its stdio (0-2), the
// preserved fds and the exec fifo, nothing else: no init socket, log pipe,
// set-up socket or console socket (its receiver must see its end).
func checkCreatedInitFds(t *testing.T, pid, preserved int) {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	fifos := 0
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		switch {
		case fd < 3+preserved:
		case strings.HasSuffix(target, "/exec.fifo") && fifos == 0:
			fifos++
		default:
			t.Errorf("created init %d holds fd %d -> %s", pid, fd, target)
		}
	}
	if fifos != 1 {
		t.Errorf("created init %d does not hold the exec fifo", pid)
	}
}

// TestCreatedInitRoot: the C init's root and cwd are the container's
// rootfs before start, whether the set-up child used pivot_root (which
// moves the root of every process of the mount namespace that had the
// old one), --no-pivot (a move and a chroot, which move nothing of other
// processes) or no mount namespace at all (chroot): the process started
// from it sees the rootfs as "/".
func TestCreatedInitRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		opt   bundleOpt
	}{
		{"pivot_root", nil, nil},
		{"no-pivot", []string{"--no-pivot"}, nil},
		{"no mount namespace", nil, func(s *specs.Spec) {
			setNamespaces(s, specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace)
			s.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
			s.Root.Readonly = false
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []bundleOpt{withArgs("sh", "-c", "cat /pid1-marker > /proc/1/fd/1; sleep 1000")}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			b := newBundle(t, opts...)
			if err := os.WriteFile(filepath.Join(b.Rootfs, "pid1-marker"), []byte("inside\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			id, pid := createContainer(t, b, tc.extra...)
			var want, root, cwd unix.Stat_t
			if err := unix.Stat(b.Rootfs, &want); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what string
				st   *unix.Stat_t
			}{{"root", &root}, {"cwd", &cwd}} {
				if err := unix.Stat(fmt.Sprintf("/proc/%d/%s/", pid, c.what), c.st); err != nil {
					t.Fatalf("stat /proc/%d/%s: %v", pid, c.what, err)
				}
				if c.st.Dev != want.Dev || c.st.Ino != want.Ino {
					t.Errorf("created init's %s is dev %d ino %d, want the rootfs (dev %d ino %d)", c.what, c.st.Dev, c.st.Ino, want.Dev, want.Ino)
				}
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/pid1-marker", pid)); err != nil {
				t.Errorf("the rootfs marker through /proc/%d/root: %v", pid, err)
			}
			mustRT(t, "start", id)
			waitStatus(t, id, "running")
			if err := unix.Stat(fmt.Sprintf("/proc/%d/root/", pid), &root); err != nil || root.Ino != want.Ino {
				t.Errorf("started process's root: ino %d (%v), want %d", root.Ino, err, want.Ino)
			}
		})
	}
}

// TestCreatedInitTerminal: with process.terminal, the C init leads its
// own session, with the container's pty as its controlling terminal (its
// foreground process group) and on its stdio, before start.
func TestCreatedInitTerminal(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Process.Terminal = true })
	recv := newConsoleReceiver(t)
	_, pid := createContainer(t, b, "--console-socket", recv.path)
	master := recv.wait(t)
	ptn, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("received fd is not a pty master: %v", err)
	}
	stat := readFile(t, fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+2:])
	// state ppid pgrp session tty_nr tpgid
	sid, _ := strconv.Atoi(f[3])
	ttyNr, _ := strconv.Atoi(f[4])
	tpgid, _ := strconv.Atoi(f[5])
	if sid != pid {
		t.Errorf("created init %d: session %d, want its own", pid, sid)
	}
	// tty_nr: major 136+ (unix98 pty), minor = the pty's number.
	if major, minor := (ttyNr>>8)&0xfff, (ttyNr&0xff)|((ttyNr>>12)&0xfff00); major < 136 || major > 143 || minor != ptn {
		t.Errorf("created init %d: controlling terminal %d:%d, want the pty %d", pid, major, minor, ptn)
	}
	if tpgid != pid {
		t.Errorf("created init %d: foreground process group %d, want its own", pid, tpgid)
	}
	checkCreatedInitFds(t, pid, 0)
	for fd := 0; fd <= 2; fd++ {
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), &st); err != nil {
			t.Fatal(err)
		}
		if uint64(st.Rdev) != uint64(ttyNr) {
			t.Errorf("created init's fd %d is device %#x, want the pty %#x", fd, st.Rdev, ttyNr)
		}
	}
}

// TestCreatedInitSignals: the created init reacts to signals as the Go
// init of rt and runc did: SIGTERM ends it (an init of a pid namespace
// without a handler would not even see it), SIGUSR1 and SIGALRM do not
// (the Go runtime caught and ignored them; their default action would end
// an init without a pid namespace); the process started after them gets
// the default dispositions back.
func TestCreatedInitSignals(t *testing.T) {
	for _, pidns := range []bool{true, false} {
		t.Run(fmt.Sprintf("pidns=%v", pidns), func(t *testing.T) {
			b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
				if !pidns {
					setNamespaces(s, specs.MountNamespace, specs.IPCNamespace, specs.UTSNamespace)
				}
			})
			id, pid := createContainer(t, b)
			for _, sig := range []string{"USR1", "ALRM"} {
				mustRT(t, "kill", id, sig)
			}
			waitStatus(t, id, "created")
			if processGone(pid) {
				t.Fatalf("created init %d gone after SIGUSR1/SIGALRM", pid)
			}
			mustRT(t, "kill", id, "TERM")
			waitStatus(t, id, "stopped")
			if !pollUntil(5*time.Second, func() bool { return processGone(pid) }) {
				t.Errorf("created init %d still there after SIGTERM", pid)
			}
			mustRT(t, "delete", id)
		})
	}
	// After start: the process catches no signal (SigCgt 0): the init's
	// handlers are gone with execve. Nor does it ignore any signal that
	// rt's caller (this test) does not: rt's SIGPIPE, which the Go runtime
	// takes as ignored, is caught by rt's own handler, which execve resets
	// (package signals). (An ignored signal is inherited, as with runc:
	// make, for one, starts its commands with 32 and 33 ignored.)
	out := mustRunIn(t, newBundle(t, withArgs("grep", "-E", "^Sig(Cgt|Ign)", "/proc/self/status")))
	if !strings.Contains(out, "SigCgt:\t0000000000000000") {
		t.Errorf("the started process catches signals: %q", out)
	}
	ign := func(status string) uint64 {
		for _, l := range strings.Split(status, "\n") {
			if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
				m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				if err != nil {
					t.Fatalf("SigIgn %q: %v", v, err)
				}
				return m
			}
		}
		t.Fatalf("no SigIgn in %q", status)
		return 0
	}
	if extra := ign(out) &^ ign(readFile(t, "/proc/self/status")); extra != 0 {
		t.Errorf("the started process ignores signals its runtime's caller does not (mask %016x): %q", extra, out)
	}
}

// TestStartContainerHooksFromC: the C init runs the startContainer hooks
// (fork+exec, the state on stdin) after the privilege drop, as the process
// will run: its uid, its capabilities, its cwd, its environment (for a hook
// without env), the container's pid of the init in the state; a failing
// hook's stderr and a hook past its timeout stop the start with runc's
// words, and the container is killed.
func TestStartContainerHooksFromC(t *testing.T) {
	report := `id -u > /tmp/hook-uid; pwd > /tmp/hook-cwd; echo "$HOOKVAR" > /tmp/hook-env; grep CapBnd /proc/self/status > /tmp/hook-caps; cat > /tmp/hook-state`
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Cwd = "/tmp"
		s.Process.Env = append(s.Process.Env, "HOOKVAR=from-the-process")
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", report}}}}
	})
	if err := os.Chmod(filepath.Join(b.Rootfs, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	id, pid := createContainer(t, b)
	if n := procStatus(t, pid)["Threads"]; n != "1" {
		t.Errorf("created init with a startContainer hook: Threads %s, want 1 (the C init)", n)
	}
	mustRT(t, "start", id)
	want := map[string]string{"hook-uid": "1000", "hook-cwd": "/tmp", "hook-env": "from-the-process", "hook-caps": "CapBnd:\t0000000000000020"}
	for f, w := range want {
		if got := strings.TrimSpace(waitFile(t, filepath.Join(b.Rootfs, "tmp", f))); got != w {
			t.Errorf("startContainer hook's %s: %q, want %q", f, got, w)
		}
	}
	var st specs.State
	if err := json.Unmarshal([]byte(waitFile(t, filepath.Join(b.Rootfs, "tmp", "hook-state"))), &st); err != nil {
		t.Fatalf("hook's state: %v", err)
	}
	if st.ID != id || st.Pid != 1 || st.Status != specs.StateCreated {
		t.Errorf("hook's state: id %q pid %d status %q, want %q 1 created", st.ID, st.Pid, st.Status, id)
	}

	timeout := 1
	for _, tc := range []struct {
		hook specs.Hook
		want string
	}{
		{specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo refused >&2; exit 3"}}, "startContainer hook #0 (/bin/sh): exit status 3: refused"},
		{specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "20"}, Timeout: &timeout}, "startContainer hook #0 (/bin/sleep): hook ran past its timeout of 1s: killed"},
		{specs.Hook{Path: "/no/such/hook"}, "startContainer hook #0 (/no/such/hook): fork/exec /no/such/hook: no such file or directory"},
	} {
		b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{tc.hook}} })
		id, pid := createContainer(t, b)
		_, se, code := rt(t, "start", id)
		if code == 0 || !strings.Contains(se, tc.want) {
			t.Errorf("start with a failing startContainer hook: exit %d, %q; want %q", code, se, tc.want)
		}
		if !pollUntil(5*time.Second, func() bool { return processGone(pid) }) {
			t.Errorf("container %s still there after its startContainer hook failed", id)
		}
		rt(t, "delete", "--force", id)
	}
}

// TestCreateSeccompLastWithNoNewPrivs: the C init loads the filter last
// when no_new_privs is set, so a profile that denies the init's own steps
// (credentials, capabilities, prctl, close_range, affinity) still runs the
// process, under the filter; without no_new_privs the filter comes before
// the privilege drop (it needs CAP_SYS_ADMIN then), and the init's next
// step is refused: the error reaches `rt run` through the exec fifo.
func TestCreateSeccompLastWithNoNewPrivs(t *testing.T) {
	denied := []string{"setgroups", "setresgid", "setresuid", "capset", "prctl", "close_range", "sched_setaffinity"}
	profile := func(nnp bool) bundleOpt {
		return func(s *specs.Spec) {
			s.Process.NoNewPrivileges = nnp
			s.Process.User = specs.User{UID: 1000, GID: 1000}
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: denied, Action: specs.ActErrno}},
			}
		}
	}
	out := mustRunIn(t, newBundle(t, withArgs("cat", "/proc/self/status"), profile(true)))
	st := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	if st["Seccomp"] != "2" || st["NoNewPrivs"] != "1" || !strings.HasPrefix(st["Uid"], "1000") {
		t.Errorf("run with no_new_privs: Seccomp %q NoNewPrivs %q Uid %q, want 2, 1, 1000", st["Seccomp"], st["NoNewPrivs"], st["Uid"])
	}
	_, se, code := runIn(t, newBundle(t, withArgs("true"), profile(false)))
	if code == 0 || !strings.Contains(se, "PR_SET_KEEPCAPS") || !strings.Contains(se, "operation not permitted") {
		t.Errorf("run without no_new_privs under a profile denying rt's steps: exit %d, %q; want the first step after the filter (prctl PR_SET_KEEPCAPS) refused", code, se)
	}
}
