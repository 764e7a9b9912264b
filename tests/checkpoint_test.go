package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Checkpoint/restore tests. They need a criu in PATH that works on this
// kernel (`criu check`); scripts/install-criu.sh builds one and `make
// integration` puts it first in PATH. Without it they skip, naming what
// `criu check` said, except in CI (CI=true or RT_REQUIRE_CRIU=1), where
// they fail instead.

var (
	criuOnce sync.Once
	criuErr  error
)

func requireCriu(t *testing.T) {
	t.Helper()
	criuOnce.Do(func() {
		if _, err := exec.LookPath("criu"); err != nil {
			criuErr = errors.New("no criu in PATH (scripts/install-criu.sh builds one)")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "criu", "check").CombinedOutput()
		if err != nil {
			line := ""
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "Error") && !strings.Contains(l, "RLIMIT_NOFILE") {
					line = strings.TrimSpace(l)
					break
				}
			}
			criuErr = fmt.Errorf("`criu check` fails on this kernel: %v %s", err, line)
		}
	})
	if criuErr == nil {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("RT_REQUIRE_CRIU") == "1" {
		t.Fatalf("checkpoint/restore required here: %v", criuErr)
	}
	t.Skipf("SKIP: checkpoint/restore needs a working criu: %v", criuErr)
}

// criuHasFeature asks `criu check --feature name`.
func criuHasFeature(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "criu", "check", "--feature", name).Run() == nil
}

// stdio is a set of anonymous pipes for a container's stdio: criu can dump
// a process whose stdio are pipes (not host files), and restore re-attaches
// them to new ones.
type stdio struct {
	inR, inW, outR, outW *os.File
}

func newCrStdio(t *testing.T) *stdio {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stdio{inR, inW, outR, outW}
	t.Cleanup(func() {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
	})
	return s
}

// readFor reads what the container wrote during d.
func (s *stdio) readFor(d time.Duration) string {
	var out []byte
	deadline := time.Now().Add(d)
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		s.outR.SetReadDeadline(deadline)
		n, err := s.outR.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	return string(out)
}

// rtCr runs the runtime (this test's --root) with the given stdio
// (nil: /dev/null) and extra environment. rt's own errors on stderr land in
// the container's output pipe when io is set: they are read back from it.
func rtCr(t *testing.T, io *stdio, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", ctxFor(t).root}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var errBuf strings.Builder
	if io != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = io.inR, io.outW, io.outW
	} else {
		cmd.Stdout, cmd.Stderr = &errBuf, &errBuf
	}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	out := errBuf.String()
	if io != nil && code != 0 {
		out = io.readFor(300 * time.Millisecond)
	}
	return result{stdout: out, stderr: out, code: code}
}

func mustRTCr(t *testing.T, io *stdio, env []string, args ...string) {
	t.Helper()
	if r := rtCr(t, io, env, args...); r.code != 0 {
		t.Fatalf("rt %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
}

const crCounterScript = `i=0; while :; do i=$((i+1)); echo $i > /tmp/cnt.new; mv /tmp/cnt.new /tmp/cnt; [ $((i % 5)) = 0 ] && echo tick $i; sleep 0.2; done`

// crBundle is a container whose shell keeps a counter in memory and
// writes it to /tmp/cnt (read from the host through the rootfs).
func crBundle(t *testing.T, opts ...bundleOpt) *bundle {
	return newBundle(t, append([]bundleOpt{withArgs("sh", "-c", crCounterScript), withKexecDenied}, opts...)...)
}

// withKexecDenied gives the container a seccomp filter (one denied
// syscall), so that its survival across checkpoint/restore shows.
func withKexecDenied(s *specs.Spec) {
	s.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"kexec_load"}, Action: specs.ActErrno}},
	}
}

func crCounter(t *testing.T, b *bundle) int {
	t.Helper()
	var n int
	var last string
	if !pollUntil(5*time.Second, func() bool {
		data, err := os.ReadFile(filepath.Join(b.Rootfs, "tmp", "cnt"))
		if err != nil {
			return false
		}
		last = strings.TrimSpace(string(data))
		n, err = strconv.Atoi(last)
		return err == nil
	}) {
		t.Fatalf("counter file unreadable: %q", last)
	}
	return n
}

// crCounterAbove waits for the counter to exceed n.
func crCounterAbove(t *testing.T, b *bundle, n int) int {
	t.Helper()
	var c int
	if !pollUntil(10*time.Second, func() bool { c = crCounter(t, b); return c > n }) {
		t.Fatalf("counter stuck at %d, want > %d", c, n)
	}
	return c
}

// crRunDetached starts a container with `run -d` on io and returns its pid.
func crRunDetached(t *testing.T, b *bundle, io *stdio, id string, extra ...string) int {
	t.Helper()
	mustRTCr(t, io, nil, append(append([]string{"run", "-d", "--bundle", b.Dir}, extra...), id)...)
	st := state(t, id)
	if st.Status != "running" {
		t.Fatalf("after run -d: status %q", st.Status)
	}
	trackPid(t, st.Pid)
	return st.Pid
}

func crAssertGone(t *testing.T, id string, pid int, cgroups map[string]string) {
	t.Helper()
	if _, se, code := rt(t, "state", id); code == 0 || !strings.Contains(se, "does not exist") {
		t.Errorf("state %s after checkpoint: exit %d, %q; want \"does not exist\"", id, code, se)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("init %d still alive after checkpoint", pid)
	}
	for ctrl, d := range cgroups {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s (%s) left after checkpoint", d, ctrl)
		}
	}
}

func TestCheckpointRestoreKeepsMemoryState(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	io := newCrStdio(t)
	id := newID(t)
	pid := crRunDetached(t, b, io, id)
	cg := cgroupDirsOf(pid)
	crCounterAbove(t, b, 3)
	before := procStatus(t, pid)
	dir := t.TempDir()
	img, work := filepath.Join(dir, "img"), filepath.Join(dir, "work")
	mustRT(t, "checkpoint", "--image-path", img, "--work-path", work, id)
	for _, f := range []string{filepath.Join(img, "inventory.img"), filepath.Join(img, "descriptors.json"), filepath.Join(work, "dump.log")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("--image-path/--work-path not honoured: %v", err)
		}
	}
	crAssertGone(t, id, pid, cg)
	c1 := crCounter(t, b)
	time.Sleep(time.Second)
	if c2 := crCounter(t, b); c2 != c1 {
		t.Fatalf("counter moved while checkpointed: %d -> %d", c1, c2)
	}

	io2 := newCrStdio(t)
	pidFile := filepath.Join(dir, "pid")
	mustRTCr(t, io2, nil, "restore", "-d", "--image-path", img, "--work-path", filepath.Join(dir, "work2"),
		"--bundle", b.Dir, "--pid-file", pidFile, id)
	st := state(t, id)
	if st.Status != "running" {
		t.Fatalf("restored container: status %q", st.Status)
	}
	trackPid(t, st.Pid)
	if got := strings.TrimSpace(readFile(t, pidFile)); got != strconv.Itoa(st.Pid) {
		t.Errorf("--pid-file holds %q, state says %d", got, st.Pid)
	}
	// Seccomp filter and capabilities came back with the process.
	after := procStatus(t, st.Pid)
	for _, k := range []string{"Seccomp", "Seccomp_filters", "CapEff", "CapBnd", "NoNewPrivs"} {
		if before[k] != after[k] {
			t.Errorf("%s: %q before checkpoint, %q after restore", k, before[k], after[k])
		}
	}
	if before["Seccomp"] != "2" {
		t.Errorf("test container has no seccomp filter (Seccomp %q): nothing shown", before["Seccomp"])
	}
	// The memory state carried on: the counter continues from where it
	// stopped, it does not start again from 1.
	c3 := crCounterAbove(t, b, c1)
	if c3 > c1+30 || c3 < c1 {
		t.Fatalf("counter after restore %d, want just above %d", c3, c1)
	}
	// The cgroup is the configured one again.
	for ctrl, d := range cgroupDirsOf(st.Pid) {
		if cg[ctrl] != "" && cg[ctrl] != d {
			t.Errorf("restored into cgroup %s (%s), want %s", d, ctrl, cg[ctrl])
		}
	}
	// stdout was a pipe at checkpoint: its new end is the one restore got.
	if out := io2.readFor(2 * time.Second); !strings.Contains(out, "tick") {
		t.Errorf("no output of the restored process on restore's stdout: %q", out)
	}
	// exec joins the restored namespaces (the time namespace criu made too).
	out := mustRT(t, "exec", id, "sh", "-c", "cat /tmp/cnt; for n in pid time; do readlink /proc/1/ns/$n; readlink /proc/self/ns/$n; done")
	lines := strings.Fields(out)
	if len(lines) != 5 || lines[1] != lines[2] || lines[3] != lines[4] {
		t.Errorf("exec after restore: %q (want the init's pid and time namespaces)", out)
	}
	mustRT(t, "pause", id)
	waitStatus(t, id, "paused")
	p1 := crCounter(t, b)
	time.Sleep(600 * time.Millisecond)
	if p2 := crCounter(t, b); p2 != p1 {
		t.Errorf("counter moved while paused: %d -> %d", p1, p2)
	}
	mustRT(t, "resume", id)
	crCounterAbove(t, b, p1)
	mustContain(t, "ps of the restored container", mustRT(t, "ps", id), "sh -c")
	// Masked and read-only paths are still so.
	out = mustRT(t, "exec", id, "sh", "-c", "wc -c < /proc/keys; echo x > /proc/sys/kernel/domainname && echo writable || echo read-only")
	if f := strings.Fields(out); len(f) < 2 || f[0] != "0" || f[len(f)-1] != "read-only" {
		t.Errorf("masked /proc/keys and read-only /proc/sys after restore: %q", out)
	}
	if lst := mustRT(t, "list", "-q"); !strings.Contains(lst, id) {
		t.Errorf("list after restore: %q lacks %s", lst, id)
	}
	mustRT(t, "kill", id, "KILL")
	waitStatus(t, id, "stopped")
	mustRT(t, "delete", id)
}

func TestCheckpointLeaveRunningRestoreNewID(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	io := newCrStdio(t)
	id := newID(t)
	pid := crRunDetached(t, b, io, id)
	crCounterAbove(t, b, 3)
	img := filepath.Join(t.TempDir(), "img")
	before := crCounter(t, b)
	mustRT(t, "checkpoint", "--leave-running", "--image-path", img, id)
	if st := state(t, id); st.Status != "running" || st.Pid != pid {
		t.Fatalf("after --leave-running: %s pid %d, want running pid %d", st.Status, st.Pid, pid)
	}
	at := crCounterAbove(t, b, before)
	mustRT(t, "kill", id, "KILL")
	waitStatus(t, id, "stopped")
	mustRT(t, "delete", id)

	newIDs := newID(t)
	io2 := newCrStdio(t)
	mustRTCr(t, io2, nil, "restore", "-d", "--image-path", img, "--bundle", b.Dir, newIDs)
	st := state(t, newIDs)
	if st.Status != "running" || st.ID != newIDs {
		t.Fatalf("restored as %s: %+v", newIDs, st)
	}
	trackPid(t, st.Pid)
	// It carries on from the checkpoint (the value then, not 1).
	first := crCounter(t, b)
	next := crCounterAbove(t, b, first)
	if next < before || next > at+30 {
		t.Errorf("counter after restore under a new id: %d, want from %d on", next, before)
	}
	if cg := readFile(t, fmt.Sprintf("/proc/%d/cgroup", st.Pid)); !strings.Contains(cg, newIDs) {
		t.Errorf("restored container's cgroups: none at the new id's path:\n%s", cg)
	}
	mustRT(t, "delete", "--force", newIDs)
}

func TestCheckpointTCPEstablished(t *testing.T) {
	requireCriu(t)
	// A client streams a counter to a server over loopback, all inside the
	// container's own network namespace.
	script := `ip link set lo up; sleep 100000 | nc -l -p 5000 > /tmp/recv & sleep 0.3; ` +
		`i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done | nc 127.0.0.1 5000`
	b := newBundle(t, withArgs("sh", "-c", script), func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_NET_ADMIN")
		c.Effective = append(c.Effective, "CAP_NET_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_NET_ADMIN")
	})
	io := newCrStdio(t)
	id := newID(t)
	crRunDetached(t, b, io, id)
	recv := filepath.Join(b.Rootfs, "tmp", "recv")
	lastLine := func() int {
		data, _ := os.ReadFile(recv)
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(f[len(f)-1])
		return n
	}
	if !pollUntil(10*time.Second, func() bool { return lastLine() > 3 }) {
		t.Fatalf("no TCP traffic inside the container: %q", readFile(t, recv))
	}
	img := filepath.Join(t.TempDir(), "img")
	// Without --tcp-established criu refuses, and the container runs on.
	_, se, code := rt(t, "checkpoint", "--image-path", img, id)
	if code == 0 {
		t.Fatal("checkpoint with an established TCP connection succeeded without --tcp-established")
	}
	mustContain(t, "checkpoint error", se, "tcp-established")
	if st := state(t, id); st.Status != "running" {
		t.Fatalf("after a failed checkpoint: status %s, want running", st.Status)
	}
	mustRT(t, "checkpoint", "--tcp-established", "--image-path", img, id)
	got := lastLine()
	io2 := newCrStdio(t)
	mustRTCr(t, io2, nil, "restore", "-d", "--tcp-established", "--image-path", img, "--bundle", b.Dir, id)
	trackPid(t, state(t, id).Pid)
	if !pollUntil(10*time.Second, func() bool { return lastLine() > got+3 }) {
		t.Fatalf("TCP stream did not continue after restore: last %d, was %d", lastLine(), got)
	}
	mustRT(t, "delete", "--force", id)
}

func TestCheckpointRestoreConsole(t *testing.T) {
	requireCriu(t)
	b := crBundle(t, func(s *specs.Spec) { s.Process.Terminal = true })
	recv := newConsoleReceiver(t)
	id := newID(t)
	mustRT(t, "run", "-d", "--console-socket", recv.path, "--bundle", b.Dir, id)
	master := recv.wait(t)
	trackPid(t, state(t, id).Pid)
	crCounterAbove(t, b, 3)
	img := filepath.Join(t.TempDir(), "img")
	mustRT(t, "checkpoint", "--image-path", img, id)
	master.Close()
	c1 := crCounter(t, b)
	recv2 := newConsoleReceiver(t)
	mustRT(t, "restore", "-d", "--console-socket", recv2.path, "--image-path", img, "--bundle", b.Dir, id)
	trackPid(t, state(t, id).Pid)
	master2 := recv2.wait(t)
	crCounterAbove(t, b, c1)
	// The restored shell writes to its terminal: read it on the new master.
	master2.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var got string
	for !strings.Contains(got, "tick") {
		n, err := master2.Read(buf)
		got += string(buf[:n])
		if err != nil {
			break
		}
	}
	mustContain(t, "output on the restored pty", got, "tick")
	out := mustRT(t, "exec", id, "sh", "-c", "readlink /proc/1/fd/1")
	mustContain(t, "restored init's stdout", out, "/dev/pts/")
	mustRT(t, "delete", "--force", id)
}

func TestCheckpointUserNamespace(t *testing.T) {
	requireCriu(t)
	if !hasNS("user") {
		t.Skip("SKIP: kernel without user namespaces")
	}
	b := crBundle(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	if err := exec.Command("chown", "-R", "100000:100000", b.Rootfs).Run(); err != nil {
		t.Fatal(err)
	}
	// The mapped root must reach its rootfs through the bundle's parents.
	for d := b.Dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	io := newCrStdio(t)
	id := newID(t)
	pid := crRunDetached(t, b, io, id)
	userns := nsInode(t, pid, "user")
	crCounterAbove(t, b, 3)
	img := filepath.Join(t.TempDir(), "img")
	_, se, code := rt(t, "checkpoint", "--image-path", img, id)
	if code != 0 {
		t.Skipf("SKIP: criu cannot checkpoint a container in a user namespace here: %s", strings.TrimSpace(se))
	}
	c1 := crCounter(t, b)
	// criu reads some images (timens) after it has entered the user
	// namespace: they must be readable by the mapped root.
	if err := exec.Command("chmod", "-R", "a+rX", filepath.Dir(img)).Run(); err != nil {
		t.Fatal(err)
	}
	io2 := newCrStdio(t)
	mustRTCr(t, io2, nil, "restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	st := state(t, id)
	trackPid(t, st.Pid)
	crCounterAbove(t, b, c1)
	if got := nsInode(t, st.Pid, "user"); got == nsInode(t, os.Getpid(), "user") {
		t.Errorf("restored init in the host's user namespace (checkpointed in %s)", userns)
	}
	if m := strings.Fields(readFile(t, fmt.Sprintf("/proc/%d/uid_map", st.Pid))); len(m) < 3 || m[0] != "0" || m[1] != "100000" {
		t.Errorf("restored uid_map %v, want 0 100000 65536", m)
	}
	mustRT(t, "delete", "--force", id)
}

// leftovers checks that a failed command left no trace of id: state dir,
// `rt list` entry, cgroup dir named after it, mounts under the bundle.
func crAssertNothingLeft(t *testing.T, id string, b *bundle) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(ctxFor(t).root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir of %s left (stat: %v)", id, err)
	}
	if lst := mustRT(t, "list", "-q"); strings.Contains(lst, id) {
		t.Errorf("rt list shows %s after a failed restore: %q", id, lst)
	}
	self := cgroupDirsOf(os.Getpid())
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range ents {
		for _, base := range []string{filepath.Join("/sys/fs/cgroup", e.Name()), self[e.Name()]} {
			if base == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(base, id)); err == nil {
				t.Errorf("cgroup %s left after a failed restore", filepath.Join(base, id))
			}
		}
	}
	if m := mountsUnder(b.Dir); len(m) > 0 {
		t.Errorf("mounts left under the bundle: %v", m)
	}
	if m := mountsUnder(ctxFor(t).root); len(m) > 0 {
		t.Errorf("mounts left under the state root: %v", m)
	}
}

func TestCheckpointRestoreFailuresLeaveNothing(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	io := newCrStdio(t)
	id := newID(t)
	crRunDetached(t, b, io, id)
	crCounterAbove(t, b, 2)
	dir := t.TempDir()
	img := filepath.Join(dir, "img")

	// No criu in PATH: one clear line, exit 1, the container runs on.
	noCriu := []string{"PATH=/nonexistent:/usr/local/go/bin"}
	r := rtCr(t, nil, noCriu, "checkpoint", "--image-path", img, id)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "criu not found") {
		t.Errorf("checkpoint without criu: exit %d, %q; want exit 1 and one line saying criu not found", r.code, r.stderr)
	}
	if st := state(t, id); st.Status != "running" {
		t.Fatalf("after checkpoint without criu: %s", st.Status)
	}

	// A checkpoint to restore from.
	mustRT(t, "checkpoint", "--leave-running", "--image-path", img, id)

	// Restoring an id that exists.
	_, se, code := rt(t, "restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("restore over an existing container succeeded")
	}
	mustContain(t, "restore over an existing id", se, "already exists")
	mustRT(t, "delete", "--force", id)

	fresh := newID(t)
	r = rtCr(t, nil, noCriu, "restore", "-d", "--image-path", img, "--bundle", b.Dir, fresh)
	if r.code != 1 || !strings.Contains(r.stderr, "criu not found") {
		t.Errorf("restore without criu: exit %d, %q", r.code, r.stderr)
	}
	crAssertNothingLeft(t, fresh, b)

	// A criu that does not work on this host: what `criu check` says.
	fake := filepath.Join(dir, "fakecriu")
	os.Mkdir(fake, 0o755)
	if err := os.WriteFile(filepath.Join(fake, "criu"), []byte("#!/bin/sh\n[ \"$1\" = check ] && echo 'Error (criu/kerndat.c:1): fake kernel feature detection failed' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := []string{"PATH=" + fake + ":" + os.Getenv("PATH")}
	r = rtCr(t, nil, broken, "restore", "-d", "--image-path", img, "--bundle", b.Dir, fresh)
	if r.code != 1 || !strings.Contains(r.stderr, "fake kernel feature detection failed") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("restore with a broken criu: exit %d, %q; want exit 1 and criu check's error in one line", r.code, r.stderr)
	}
	crAssertNothingLeft(t, fresh, b)

	// criu itself fails half-way (an image without its process tree):
	// the cgroup, state dir and criu's mounts are gone again.
	os.Remove(filepath.Join(img, "pstree.img"))
	_, se, code = rt(t, "restore", "-d", "--image-path", img, "--bundle", b.Dir, fresh)
	if code != 1 || !strings.Contains(se, "restore.log") {
		t.Errorf("restore of a broken image: exit %d, %q", code, se)
	}
	crAssertNothingLeft(t, fresh, b)

	// Not a checkpoint at all.
	_, se, code = rt(t, "restore", "-d", "--image-path", t.TempDir(), "--bundle", b.Dir, fresh)
	if code != 1 || !strings.Contains(se, "descriptors.json") {
		t.Errorf("restore from an empty directory: exit %d, %q", code, se)
	}
	crAssertNothingLeft(t, fresh, b)
}

func TestCheckpointRefusesCreatedContainer(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	id, _ := createContainer(t, b)
	_, se, code := rt(t, "checkpoint", "--image-path", filepath.Join(t.TempDir(), "img"), id)
	if code != 1 {
		t.Fatalf("checkpoint of a created container: exit %d", code)
	}
	mustContain(t, "checkpoint of a created container", se, "cannot be checkpointed in created state")
	if st := state(t, id); st.Status != "created" {
		t.Errorf("after refused checkpoint: %s", st.Status)
	}
}

func TestCheckpointPreDump(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	io := newCrStdio(t)
	id := newID(t)
	crRunDetached(t, b, io, id)
	crCounterAbove(t, b, 2)
	dir := t.TempDir()
	parent := filepath.Join(dir, "parent")
	_, se, code := rt(t, "checkpoint", "--pre-dump", "--image-path", parent, id)
	if !criuHasFeature("mem_dirty_track") {
		// This kernel has no soft-dirty tracking: a clear error, and the
		// container runs on untouched.
		if code != 1 {
			t.Fatalf("--pre-dump without soft-dirty tracking: exit %d, %q", code, se)
		}
		mustContain(t, "--pre-dump error", se, "criu is missing features: memory tracking")
		if st := state(t, id); st.Status != "running" {
			t.Fatalf("after a refused --pre-dump: %s", st.Status)
		}
		crCounterAbove(t, b, crCounter(t, b))
		return
	}
	if code != 0 {
		t.Fatalf("--pre-dump: exit %d: %s", code, se)
	}
	if st := state(t, id); st.Status != "running" {
		t.Fatalf("after --pre-dump: %s, want running", st.Status)
	}
	img := filepath.Join(dir, "img")
	mustRT(t, "checkpoint", "--parent-path", "../parent", "--image-path", img, id)
	c1 := crCounter(t, b)
	mustRTCr(t, newCrStdio(t), nil, "restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	trackPid(t, state(t, id).Pid)
	if c := crCounterAbove(t, b, c1); c > c1+30 {
		t.Errorf("counter after pre-dump restore %d, want just above %d", c, c1)
	}
	mustRT(t, "delete", "--force", id)
}

// TestCheckpointCommandsListed: features reports checkpoint support (the
// annotation runc has for it) and the help lists both commands with
// runc's flags.
func TestCheckpointCommandsListed(t *testing.T) {
	out := mustRT(t, "features")
	mustContain(t, "features", out, `"org.opencontainers.rt.checkpoint.enabled": "true"`)
	help := mustRT(t, "--help")
	mustContain(t, "rt --help", help, "checkpoint")
	mustContain(t, "rt --help", help, "restore")
	ch := mustRT(t, "checkpoint", "--help")
	for _, f := range []string{"--image-path", "--work-path", "--parent-path", "--leave-running", "--tcp-established",
		"--ext-unix-sk", "--shell-job", "--lazy-pages", "--status-fd", "--page-server", "--file-locks", "--pre-dump",
		"--manage-cgroups-mode", "--empty-ns", "--auto-dedup"} {
		mustContain(t, "checkpoint --help", ch, f)
	}
	rh := mustRT(t, "restore", "--help")
	for _, f := range []string{"--console-socket", "--image-path", "--work-path", "--tcp-established", "--ext-unix-sk",
		"--shell-job", "--file-locks", "--manage-cgroups-mode", "--bundle", "--detach", "--pid-file", "--no-subreaper",
		"--no-pivot", "--empty-ns", "--auto-dedup", "--lazy-pages", "--lsm-profile", "--lsm-mount-context"} {
		mustContain(t, "restore --help", rh, f)
	}
	// Bad flag values of a running container's checkpoint fail before
	// criu is started, and it runs on.
	id, _ := startContainer(t, newBundle(t, withArgs("sleep", "1000")))
	_, se, code := rt(t, "checkpoint", "--manage-cgroups-mode", "bogus", "--image-path", t.TempDir(), id)
	if code != 1 || !strings.Contains(se, "Invalid manage-cgroups-mode value") {
		t.Errorf("bad --manage-cgroups-mode: exit %d, %q", code, se)
	}
	_, se, code = rt(t, "checkpoint", "--page-server", "nohostport", "--image-path", t.TempDir(), id)
	if code != 1 || !strings.Contains(se, "--page-server ADDRESS:PORT") {
		t.Errorf("bad --page-server: exit %d, %q", code, se)
	}
	_, se, code = rt(t, "checkpoint", "--parent-path", "/abs", "--image-path", t.TempDir(), id)
	if code != 1 || !strings.Contains(se, "--parent-path must be relative") {
		t.Errorf("absolute --parent-path: exit %d, %q", code, se)
	}
	_, se, code = rt(t, "checkpoint", "--empty-ns", "pid", "--image-path", t.TempDir(), id)
	if code != 1 || !strings.Contains(se, `namespace "pid" is not supported`) {
		t.Errorf("--empty-ns pid: exit %d, %q", code, se)
	}
	if st := state(t, id); st.Status != "running" {
		t.Errorf("after refused checkpoints: %s", st.Status)
	}
}

// TestStdioDevNullReopened: an init given the host's /dev/null as stdio
// (what conmon gives a detached container) gets the container's /dev/null
// instead, as runc does: the fd's mount is the container's /dev, not a
// host mount the container cannot see (which criu cannot dump).
func TestStdioDevNullReopened(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id := newID(t)
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, "--root", ctxFor(t).root, "run", "-d", "--bundle", b.Dir, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	if err := cmd.Run(); err != nil {
		t.Fatalf("run -d with /dev/null stdio: %v", err)
	}
	pid := state(t, id).Pid
	trackPid(t, pid)
	// The mount id of the container's /dev.
	devMnt := ""
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/mountinfo", pid)), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == "/dev" {
			devMnt = f[0]
		}
	}
	if devMnt == "" {
		t.Fatal("no /dev mount in the container")
	}
	for fd := 0; fd < 3; fd++ {
		info := readFile(t, fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
		mnt := ""
		for _, l := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(l, "mnt_id:"); ok {
				mnt = strings.TrimSpace(v)
			}
		}
		if mnt != devMnt {
			t.Errorf("fd %d of the init: mount %s, want the container's /dev (%s)", fd, mnt, devMnt)
		}
	}
	mustRT(t, "delete", "--force", id)
}

// TestCheckpointExternalUnixSocket: the container's stdout is a datagram
// socket connected to a socket of the host (bound at a path that is bind
// mounted into the container at the same place): an external unix socket.
// criu refuses it without --ext-unix-sk; with it, the restored process's
// socket is connected to the host's peer again and its lines keep coming.
func TestCheckpointExternalUnixSocket(t *testing.T) {
	requireCriu(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	addr := filepath.Join(dir, "log")
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var mu sync.Mutex
	var last int
	go func() {
		buf := make([]byte, 512)
		for {
			n, _, err := srv.ReadFromUnix(buf)
			if err != nil {
				return
			}
			if v, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil {
				mu.Lock()
				last = v
				mu.Unlock()
			}
		}
	}()
	got := func() int { mu.Lock(); defer mu.Unlock(); return last }
	connect := func() *os.File {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.File()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	b := newBundle(t, withArgs("sh", "-c", `i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done`), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dir, Source: dir, Type: "bind", Options: []string{"bind"}})
		// The socket is made here, in the host's network namespace: criu
		// finds a process's sockets in the namespace it dumps.
		var nss []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != specs.NetworkNamespace {
				nss = append(nss, ns)
			}
		}
		s.Linux.Namespaces = nss
	})
	id := newID(t)
	sock := connect()
	// stderr too: the container keeps it, and criu cannot dump a host file.
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, "--root", ctxFor(t).root, "run", "-d", "--bundle", b.Dir, id)
	cmd.Stdout, cmd.Stderr = sock, sock
	if err := cmd.Run(); err != nil {
		t.Fatalf("run -d: %v (its message went to %s)", err, addr)
	}
	trackPid(t, state(t, id).Pid)
	if !pollUntil(10*time.Second, func() bool { return got() > 3 }) {
		t.Fatalf("nothing received from the container on %s", addr)
	}
	img := filepath.Join(t.TempDir(), "img")
	if _, se, code := rt(t, "checkpoint", "--image-path", img, id); code == 0 {
		t.Fatal("checkpoint of a container with an external unix socket succeeded without --ext-unix-sk")
	} else if st := state(t, id); st.Status != "running" {
		t.Fatalf("after the refused checkpoint (%s): %s", strings.TrimSpace(se), st.Status)
	}
	mustRT(t, "checkpoint", "--ext-unix-sk", "--image-path", img, id)
	at := got()
	mustRTCr(t, newCrStdio(t), nil, "restore", "-d", "--ext-unix-sk", "--image-path", img, "--bundle", b.Dir, id)
	trackPid(t, state(t, id).Pid)
	if !pollUntil(10*time.Second, func() bool { return got() > at+3 }) {
		t.Fatalf("no more lines on the external socket after restore: last %d, %d at checkpoint", got(), at)
	}
	mustRT(t, "delete", "--force", id)
}

// TestCheckpointRestoreJoinedNamespaceAndHooks: a container that joined a
// network namespace by path is restored into that same namespace (criu's
// external namespace, handed over as an inherited fd), and the prestart
// and createRuntime hooks run at restore with the restored init's pid.
func TestCheckpointRestoreJoinedNamespaceAndHooks(t *testing.T) {
	requireCriu(t)
	dir := t.TempDir()
	nsFile := filepath.Join(dir, "netns")
	if err := os.WriteFile(nsFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--net="+nsFile, "true").CombinedOutput(); err != nil {
		t.Skipf("SKIP: cannot make a persistent network namespace (unshare --net): %v %s", err, out)
	}
	t.Cleanup(func() { syscall.Unmount(nsFile, syscall.MNT_DETACH) })
	var nsSt syscall.Stat_t
	if err := syscall.Stat(nsFile, &nsSt); err != nil {
		t.Fatal(err)
	}
	hookOut := filepath.Join(dir, "hooks")
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat >> " + hookOut + "; echo ' " + name + "' >> " + hookOut}}
	}
	b := crBundle(t, func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = nsFile
			}
		}
	})
	id := newID(t)
	pid := crRunDetached(t, b, newCrStdio(t), id)
	if got := nsInode(t, pid, "net"); got != fmt.Sprintf("net:[%d]", nsSt.Ino) {
		t.Fatalf("container's netns %s, want the joined one (inode %d)", got, nsSt.Ino)
	}
	crCounterAbove(t, b, 2)
	img := filepath.Join(dir, "img")
	mustRT(t, "checkpoint", "--image-path", img, id)
	// Hooks for the restore only.
	b.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("prestart")}, CreateRuntime: []specs.Hook{hook("createRuntime")}}
	b.write(t)
	c1 := crCounter(t, b)
	mustRTCr(t, newCrStdio(t), nil, "restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	st := state(t, id)
	trackPid(t, st.Pid)
	crCounterAbove(t, b, c1)
	if got := nsInode(t, st.Pid, "net"); got != fmt.Sprintf("net:[%d]", nsSt.Ino) {
		t.Errorf("restored init's netns %s, want the joined one (inode %d)", got, nsSt.Ino)
	}
	out := readFile(t, hookOut)
	mustContain(t, "hooks at restore", out, "prestart")
	mustContain(t, "hooks at restore", out, "createRuntime")
	mustContain(t, "hook state", out, `"id":"`+id+`"`)
	mustRT(t, "delete", "--force", id)
}

// TestRestoreForeground: without -d, rt restore waits for the restored
// init (its child), exits with its status and removes the container.
func TestRestoreForeground(t *testing.T) {
	requireCriu(t)
	b := crBundle(t)
	id := newID(t)
	crRunDetached(t, b, newCrStdio(t), id)
	crCounterAbove(t, b, 2)
	img := filepath.Join(t.TempDir(), "img")
	mustRT(t, "checkpoint", "--image-path", img, id)
	io := newCrStdio(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, "--root", ctxFor(t).root, "restore", "--image-path", img, "--bundle", b.Dir, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.inR, io.outW, io.outW
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var st specs.State
	if !pollUntil(15*time.Second, func() bool {
		so, _, code := rt(t, "state", id)
		return code == 0 && strings.Contains(so, `"running"`) && json.Unmarshal([]byte(so), &st) == nil
	}) {
		t.Fatalf("restored container not running: %s", io.readFor(300*time.Millisecond))
	}
	trackPid(t, st.Pid)
	mustRT(t, "kill", id, "KILL")
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 137 {
			t.Fatalf("rt restore (foreground) ended with %v, want exit 137", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("rt restore did not return after its container was killed")
	}
	if lst := mustRT(t, "list", "-q"); strings.Contains(lst, id) {
		t.Errorf("container still listed after the foreground restore ended: %q", lst)
	}
}

// TestCheckpointLazyPages: --lazy-pages with a page server (on the
// loopback of a network namespace made here) and criu's lazy-pages daemon.
// Where the kernel lets criu transfer pages lazily, the restored container
// carries on; where it does not (this host's kernel fails criu's splice),
// checkpoint fails with criu's error in one line and the container runs on.
func TestCheckpointLazyPages(t *testing.T) {
	requireCriu(t)
	if !criuHasFeature("uffd-noncoop") {
		t.Skip("SKIP: no non-cooperative userfaultfd in this kernel (criu check --feature uffd-noncoop)")
	}
	dir := t.TempDir()
	nsFile := filepath.Join(dir, "netns")
	os.WriteFile(nsFile, nil, 0o644)
	if out, err := exec.Command("unshare", "--net="+nsFile, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Skipf("SKIP: cannot make a network namespace for the page server: %v %s", err, out)
	}
	t.Cleanup(func() { syscall.Unmount(nsFile, syscall.MNT_DETACH) })
	b := crBundle(t)
	id := newID(t)
	crRunDetached(t, b, newCrStdio(t), id)
	crCounterAbove(t, b, 2)
	img := filepath.Join(dir, "img")
	os.Mkdir(img, 0o700)
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer statusR.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// (Read before: the dump may freeze the shell between truncating the
	// file and writing it.)
	at := crCounter(t, b)
	var ckptErr strings.Builder
	ckpt := exec.CommandContext(ctx, "nsenter", "--net="+nsFile, rtBinary, "--root", ctxFor(t).root, "checkpoint",
		"--lazy-pages", "--page-server", "127.0.0.1:27100", "--status-fd", "3", "--image-path", img, id)
	ckpt.ExtraFiles = []*os.File{statusW}
	ckpt.Stdout, ckpt.Stderr = &ckptErr, &ckptErr
	ckpt.WaitDelay = 2 * time.Second
	if err := ckpt.Start(); err != nil {
		t.Fatal(err)
	}
	statusW.Close()
	ckptDone := make(chan error, 1)
	go func() { ckptDone <- ckpt.Wait() }()
	statusR.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := statusR.Read(make([]byte, 1)); n != 1 {
		t.Fatalf("no \\0 on --status-fd once the lazy-pages server was ready: %v; %s", err, ckptErr.String())
	}
	lazy := exec.CommandContext(ctx, "nsenter", "--net="+nsFile, "criu", "lazy-pages", "--page-server", "--address", "127.0.0.1",
		"--port", "27100", "--images-dir", img, "-o", "lazy-pages.log")
	if err := lazy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { lazy.Process.Kill(); lazy.Wait() }()
	restored := newID(t)
	rio := newCrStdio(t)
	rcmd := exec.CommandContext(ctx, rtBinary, "--root", ctxFor(t).root, "restore", "-d", "--lazy-pages", "--image-path", img, "--bundle", b.Dir, restored)
	rcmd.Stdin, rcmd.Stdout, rcmd.Stderr = rio.inR, rio.outW, rio.outW
	rcmd.WaitDelay = 2 * time.Second
	if err := rcmd.Start(); err != nil {
		t.Fatal(err)
	}
	restoreDone := make(chan error, 1)
	go func() { restoreDone <- rcmd.Wait() }()
	var werr error
	select {
	case werr = <-ckptDone:
	case <-time.After(60 * time.Second):
		t.Fatal("lazy checkpoint still waiting 60 s after the restore started")
	}
	if werr != nil {
		// The page transfer failed: criu's restore waits for ever on
		// processes whose pages will never come. Kill rt there, as a
		// crash would: delete --force must remove all it left.
		select {
		case <-restoreDone:
		case <-time.After(3 * time.Second):
			rcmd.Process.Kill()
			<-restoreDone
		}
	}
	r := result{code: rcmd.ProcessState.ExitCode(), stderr: rio.readFor(200 * time.Millisecond)}
	if werr == nil {
		// The kernel allows it: the restored copy carries on.
		if r.code != 0 {
			t.Fatalf("restore --lazy-pages: %s", r.stderr)
		}
		trackPid(t, state(t, restored).Pid)
		if c := crCounterAbove(t, b, at); c > at+40 {
			t.Errorf("counter after lazy restore %d, want just above %d", c, at)
		}
		return
	}
	msg := strings.TrimSpace(ckptErr.String())
	t.Logf("lazy pages do not work here: %s", msg)
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "criu dump failed") {
		t.Errorf("failed lazy checkpoint: %q, want one line with criu's error", msg)
	}
	if st := state(t, id); st.Status != "running" {
		t.Fatalf("after the failed lazy checkpoint: %s, want running", st.Status)
	}
	crCounterAbove(t, b, crCounter(t, b))
	rt(t, "delete", "--force", restored)
	crAssertNothingLeft(t, restored, b)
}
