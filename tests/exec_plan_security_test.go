package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// rt exec's process is prepared by the C stage (the plan; no Go runtime in
// the container). These tests attack what it must guarantee before execve.

// holdingAgent is a seccomp notify listener that lets every notified
// syscall continue, except the first one of the second process that
// connects (rt exec's, after the container's own): it holds that one
// until release is closed, after reporting the process's host pid.
type holdingAgent struct {
	path    string
	held    chan int
	release chan struct{}
}

func newHoldingAgent(t *testing.T) *holdingAgent {
	t.Helper()
	a := &holdingAgent{path: filepath.Join(t.TempDir(), "agent.sock"), held: make(chan int, 1), release: make(chan struct{})}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 0; ; n++ {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go a.serve(conn, n == 1)
		}
	}()
	return a
}

func (a *holdingAgent) serve(conn *net.UnixConn, hold bool) {
	defer conn.Close()
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	if len(msgs) != 1 {
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return
	}
	fd := libseccomp.ScmpFd(fds[0])
	defer unix.Close(fds[0])
	for {
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			return
		}
		if hold {
			hold = false
			a.held <- int(req.Pid)
			select {
			case <-a.release:
			case <-time.After(30 * time.Second):
			}
		}
		libseccomp.NotifRespond(fd, &libseccomp.ScmpNotifResp{ID: req.ID, Flags: libseccomp.NotifRespFlagContinue})
	}
}

// filter is a container seccomp profile that allows everything and sends
// syscall to the agent.
func (a *holdingAgent) filter(syscall string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  a.path,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{syscall}, Action: specs.ActNotify}},
	}
}

// rtResult is what an rt command run in the background gave.
type rtResult struct {
	errOut string
	code   int
}

// rtAsync runs rt with args in the background; its result comes on the
// channel.
func rtAsync(t *testing.T, args ...string) <-chan rtResult {
	done := make(chan rtResult, 1)
	go func() {
		_, se, code := rt(t, args...)
		done <- rtResult{se, code}
	}()
	return done
}

// waitHeld returns the host pid of the process the agent holds, failing
// the test if the command (done) ends or nothing is held in time.
func (a *holdingAgent) waitHeld(t *testing.T, done <-chan rtResult, syscall string) int {
	t.Helper()
	select {
	case pid := <-a.held:
		return pid
	case r := <-done:
		t.Fatalf("exec finished (exit %d: %s) without its %s reaching the listener", r.code, r.errOut, syscall)
	case <-time.After(20 * time.Second):
		t.Fatalf("exec's process never reached its %s", syscall)
	}
	return 0
}

// expectStopped checks that the command (done), whose process pid was
// stopped by the container, fails within 30 s saying so, and that pid is
// then gone.
func expectStopped(t *testing.T, done <-chan rtResult, pid int, what string) {
	t.Helper()
	select {
	case r := <-done:
		if r.code == 0 || !strings.Contains(r.errOut, "stopped") {
			t.Errorf("%s: exit %d, %q; want a failure that says it was stopped", what, r.code, r.errOut)
		}
		t.Logf("%s: %s", what, r.errOut)
	case <-time.After(30 * time.Second):
		unix.Kill(pid, unix.SIGKILL)
		t.Fatalf("%s: rt waits for ever on a process stopped by the container (SIGSTOP)", what)
	}
	if !pollUntil(5*time.Second, func() bool { return unix.Kill(pid, 0) != nil }) {
		t.Errorf("%s: the stopped process %d is still there after rt failed", what, pid)
	}
}

// TestExecHelperNotDumpable holds rt exec's process in the container just
// before execve, after it took the user's uid and capabilities (in its
// umask(2), made a notify syscall) while rt's socket is still open, and
// attacks it from a sibling container in the same pid namespace with the
// same uid and capabilities (so that only the dumpable flag stands in the
// way): its environment, memory maps and fds must stay out of reach. The
// same attack on the process once exec'd (dumpable again) works: the
// control that the attack is real.
func TestExecHelperNotDumpable(t *testing.T) {
	agent := newHoldingAgent(t)
	kill := []string{"CAP_KILL"}
	caps := &specs.LinuxCapabilities{Bounding: kill, Effective: kill, Permitted: kill, Inheritable: kill, Ambient: kill}
	_, id, pid := sleeper(t, func(s *specs.Spec) {
		s.Process.Capabilities = caps
		s.Linux.Seccomp = agent.filter("umask")
	})
	done := rtAsync(t, "exec", "-d", "-u", "1000:1000", id, "sleep", "1000")
	hostPid := agent.waitHeld(t, done, "umask")
	released := false
	release := func() {
		if !released {
			released = true
			close(agent.release)
		}
	}
	defer release()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", hostPid))
	if err != nil {
		t.Fatal(err)
	}
	nsPid := ""
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "NSpid:" {
			nsPid = f[len(f)-1]
		}
	}
	if _, err := strconv.Atoi(nsPid); err != nil {
		t.Fatalf("no NSpid for %d: %q", hostPid, status)
	}
	if !strings.Contains(string(status), "Uid:\t1000\t") {
		t.Fatalf("held before its user changed, the test would prove nothing:\n%s", status)
	}
	p := nsPid
	probe := "for f in environ maps; do if cat /proc/" + p + "/$f >/dev/null 2>&1; then echo LEAK:$f; else echo denied:$f; fi; done; " +
		"leak=; for f in /proc/" + p + "/fd/*; do readlink $f >/dev/null 2>&1 && leak=1; done; " +
		"if [ -n \"$leak\" ]; then echo LEAK:fd; else echo denied:fd; fi"
	attacker := newBundle(t, withArgs("sh", "-c", probe), func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Capabilities = caps
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", pid)
			}
		}
	})
	out := mustRunIn(t, attacker)
	release()
	for _, f := range []string{"environ", "maps", "fd"} {
		if !strings.Contains(out, "denied:"+f) {
			t.Errorf("/proc/%s/%s of rt exec's process before execve reached from a sibling container:\n%s", nsPid, f, out)
		}
	}
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("exec after release: exit %d: %s", r.code, r.errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("exec did not finish after its umask was released")
	}
	// The control: the same attack once the process is exec'd (the same
	// pid: exec keeps it) and dumpable again.
	if out := mustRunIn(t, attacker); !strings.Contains(out, "LEAK:environ") {
		t.Errorf("the attacker could not read the exec'd process either (no control):\n%s", out)
	}
}

// TestExecSeccompLastWithNoNewPrivs: with no_new_privs the filter is loaded
// after every step of rt's own (groups, ids, capabilities, prctls), so a
// profile that forbids them still runs the process; without no_new_privs
// it must be loaded before the ids change (it needs CAP_SYS_ADMIN then),
// and the same profile refuses rt's next step (PR_SET_KEEPCAPS), as in
// runc and rt's former Go init.
func TestExecSeccompLastWithNoNewPrivs(t *testing.T) {
	denied := []string{"setgroups", "setresgid", "setresuid", "capset", "prctl", "close_range", "sched_setaffinity"}
	_, id, _ := sleeper(t, func(s *specs.Spec) {
		s.Process.NoNewPrivileges = true
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: denied, Action: specs.ActErrno}},
		}
	})
	out := mustRT(t, "exec", "--no-new-privs", "-u", "1000:1000", id, "cat", "/proc/self/status")
	st := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	if st["Seccomp"] != "2" || st["NoNewPrivs"] != "1" || !strings.HasPrefix(st["Uid"], "1000") {
		t.Errorf("exec with no_new_privs: Seccomp %q NoNewPrivs %q Uid %q, want 2, 1, 1000", st["Seccomp"], st["NoNewPrivs"], st["Uid"])
	}
	p := specs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"PATH=/bin"}, User: specs.User{UID: 1000, GID: 1000}}
	data, _ := json.Marshal(p)
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, se, code := rt(t, "exec", "-p", path, id)
	if code == 0 || !strings.Contains(se, "PR_SET_KEEPCAPS") || !strings.Contains(se, "operation not permitted") {
		t.Errorf("exec without no_new_privs under a profile denying rt's steps: exit %d, %q; want the first step after the filter (prctl PR_SET_KEEPCAPS) refused", code, se)
	}
}

// TestExecCwdOutsideRefused: a cwd that resolves outside the container's
// root (CVE-2024-21626) through a preserved fd that is open on a host
// directory: the chdir succeeds, and the getcwd check must refuse it.
func TestExecCwdOutsideRefused(t *testing.T) {
	_, id, _ := sleeper(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "host-secret"), []byte("HOST-SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	out := outFile(t)
	r := runBinary(rtBinary, []string{"--root", ctxFor(t).root, "exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3", id,
		"cat", "host-secret"}, nil, out, []*os.File{dir})
	if strings.Contains(readFile(t, out), "HOST-SECRET") {
		t.Fatal("exec's cwd escaped to a host directory")
	}
	if r.code == 0 || !strings.Contains(r.stderr, "is outside the container") {
		t.Errorf("exec --cwd /proc/self/fd/3 (a host directory): exit %d, %q; want the cwd refused", r.code, r.stderr)
	}
}

// TestExecSeccompCached: create (or the first exec) stores the container's
// compiled filter in its state directory and every exec runs under it; a
// damaged cache is compiled again, never trusted.
func TestExecSeccompCached(t *testing.T) {
	_, id, _ := sleeper(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}},
		}
	})
	cache := filepath.Join(ctxFor(t).root, id, "seccomp.bpf")
	try := func(what string) {
		t.Helper()
		out, se, code := rt(t, "exec", id, "sh", "-c", "mkdir /tmp/d-$$ 2>/dev/null && echo made || echo denied")
		if code != 0 {
			t.Fatalf("%s exec: exit %d: %s", what, code, se)
		}
		if strings.TrimSpace(out) != "denied" {
			t.Errorf("%s exec: mkdir %q, want denied by the filter", what, out)
		}
	}
	// create compiled the profile for the init and stored it.
	before, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("no compiled filter stored by create: %v", err)
	}
	try("first")
	// A valid cache is read, not compiled again and replaced (a rename: a
	// new inode): exec's key of the profile (from config.json's bytes) is
	// the one create stored it under (from the decoded profile).
	if after, err := os.Stat(cache); err != nil || !os.SameFile(before, after) {
		t.Errorf("exec replaced create's valid cache (%v): its key of the profile differs", err)
	}
	data, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	try("second")
	if err := os.WriteFile(cache, data[:len(data)-8], 0o600); err != nil {
		t.Fatal(err)
	}
	try("damaged-cache")
	if again, _ := os.ReadFile(cache); string(again) != string(data) {
		t.Error("the damaged cache was not replaced by the compiled filter")
	}
}

// TestExecWithoutPidNamespace: a container that shares the host's pid
// namespace: the C stage does not fork, it applies the plan itself (as the
// direct child of rt) and execs; the process is the one rt reported, leads
// a session of its own, and its exit status comes back.
func TestExecWithoutPidNamespace(t *testing.T) {
	_, id, _ := sleeper(t, func(s *specs.Spec) {
		setNamespaces(s, specs.MountNamespace, specs.UTSNamespace, specs.IPCNamespace)
	})
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	so, se, code := rt(t, "exec", "--pid-file", pidFile, id, "sh", "-c",
		"echo $$; cut -d' ' -f6 /proc/$$/stat; exit 7")
	if code != 7 {
		t.Fatalf("exec: exit %d (want 7): %s", code, se)
	}
	f := strings.Fields(so)
	if len(f) < 2 {
		t.Fatalf("exec printed %q", so)
	}
	if pid, _ := strconv.Atoi(f[0]); pid <= 1 {
		t.Errorf("the process sees itself as pid %s: want its host pid (no pid namespace)", f[0])
	}
	if f[0] != f[1] {
		t.Errorf("session id %s, pid %s: the process should lead a session of its own", f[1], f[0])
	}
	if got := strings.TrimSpace(readFileOrEmpty(pidFile)); got != f[0] {
		t.Errorf("--pid-file says %q, the process is %s", got, f[0])
	}
}

// TestExecStageSealedMemfd: rt exec's C stage is rt-stage, the small
// static program embedded in rt, run from a memfd made for that exec and
// sealed: held before its execve (in its umask(2)), the process's exe is
// that memfd, not rt's binary, and cannot be opened for writing, even by
// the host's root; the seals forbid every change. (make build embeds
// rt-stage where musl-gcc is installed: make deps installs it.)
func TestExecStageSealedMemfd(t *testing.T) {
	agent := newHoldingAgent(t)
	_, id, _ := sleeper(t, func(s *specs.Spec) { s.Linux.Seccomp = agent.filter("umask") })
	done := rtAsync(t, "exec", "-d", id, "sleep", "1000")
	hostPid := agent.waitHeld(t, done, "umask")
	defer close(agent.release)
	exe := fmt.Sprintf("/proc/%d/exe", hostPid)
	link, err := os.Readlink(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "/memfd:rt-stage") {
		t.Fatalf("rt exec's process before execve runs %q, want the rt-stage memfd (bin/rt built without rt-stage? make deps installs musl-gcc)", link)
	}
	if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Errorf("%s (%s) opened for writing", exe, link)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatalf("F_GET_SEALS on %s: %v", link, err)
	}
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if seals&want != want {
		t.Errorf("seals of %s: %#x, want %#x", link, seals, want)
	}
}

// TestCreateSeccompSharedCache: a state root compiles a seccomp profile
// once: the second container with the same profile gets the program the
// first create stored in the root's shared cache (a hard link: the same
// inode), and the filter applies; list shows only containers.
func TestCreateSeccompSharedCache(t *testing.T) {
	prof := func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}},
		}
	}
	root := ctxFor(t).root
	_, id1, _ := sleeper(t, prof)
	_, id2, _ := sleeper(t, prof)
	shared, err := filepath.Glob(filepath.Join(root, ".seccomp@*.bpf"))
	if err != nil || len(shared) != 1 {
		t.Fatalf("shared cache: %v (%v), want one program", shared, err)
	}
	s0, err := os.Stat(shared[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{id1, id2} {
		st, err := os.Stat(filepath.Join(root, id, "seccomp.bpf"))
		if err != nil || !os.SameFile(s0, st) {
			t.Errorf("%s: its program is not the shared one (%v)", id, err)
		}
		out, se, code := rt(t, "exec", id, "sh", "-c", "mkdir /tmp/d-$$ 2>/dev/null && echo made || echo denied")
		if code != 0 || strings.TrimSpace(out) != "denied" {
			t.Errorf("%s: mkdir %q (exit %d: %s), want denied by the filter", id, out, code, se)
		}
	}
	out := mustRT(t, "list", "-q")
	if strings.Contains(out, "seccomp") {
		t.Errorf("list shows the cache: %q", out)
	}
}
