package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// runPlan starts the C stage in plan mode (a new pid namespace, as rt
// exec into a container with one), sends p, and returns the process's
// stdout and what came back on the init socket after the plan: nil when the
// process exec'd (the close-on-exec socket closed), else its error.
func runPlan(t *testing.T, p *initproto.Plan) (string, error) {
	t.Helper()
	return runPlanWith(t, p, nil, nil, nil)
}

// runPlanWith is runPlan with the C stage started through the command
// wrap (a prefix of argv: setpriv, ...) with attr, and setup called with
// its pid before the bootstrap is sent.
func runPlanWith(t *testing.T, p *initproto.Plan, wrap []string, attr *syscall.SysProcAttr, setup func(pid int)) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces, setuid)")
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append([]string{}, wrap...), os.Args[0], "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.ExtraFiles = []*os.File{child}
	cmd.SysProcAttr = attr
	cmd.Env = []string{"_RT_INITPIPE=3", childEnv + "=1"}
	cmd.Stdout = outW
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	outW.Close()
	conn := initproto.NewConn(parent)
	defer func() { conn.Close(); cmd.Process.Kill(); cmd.Wait() }()
	if setup != nil {
		setup(cmd.Process.Pid)
	}
	parent.SetDeadline(time.Now().Add(20 * time.Second))
	boot, err := (&initproto.BootstrapData{CloneFlags: unix.CLONE_NEWPID, NonDumpable: true, Plan: true}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Write(boot); err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(initproto.CgroupOK, nil); err != nil {
		t.Fatal(err)
	}
	m, err := conn.Expect(initproto.Pid)
	if err != nil {
		t.Fatalf("C stage: %v", err)
	}
	pid := int(binary.LittleEndian.Uint32(m.Payload))
	frame, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Write(frame); err != nil {
		t.Fatal(err)
	}
	m, err = conn.Recv()
	var res error
	switch {
	case errors.Is(err, initproto.ErrClosed):
	case err != nil:
		t.Fatal(err)
	default:
		res = m.Expect()
	}
	outR.SetDeadline(time.Now().Add(20 * time.Second))
	out, _ := io.ReadAll(outR)
	// The process is not our child (the C stage forked it): wait for it
	// to be gone through a pidfd, bounded.
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 5000)
		unix.Close(fd)
	}
	return string(out), res
}

func statusField(status, name string) string {
	for _, l := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The applier's result, read back by the exec'd process itself: user,
// groups, capabilities, no_new_privs, seccomp (loaded: uname is refused),
// umask, cwd, HOME, rlimits, and no fd of rt's.
func TestPlanApplied(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	// ld [nr]; jeq uname ? errno(EPERM) : allow.
	ins := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_UNAME},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	var prog []byte
	for _, i := range ins {
		prog = binary.NativeEndian.AppendUint16(prog, i.Code)
		prog = append(prog, i.Jt, i.Jf)
		prog = binary.NativeEndian.AppendUint32(prog, i.K)
	}
	last, _ := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	lastCap := 40
	if n := strings.TrimSpace(string(last)); n != "" {
		lastCap = int(n[0]-'0')*10 + int(n[1]-'0')
	}
	const caps = 1<<unix.CAP_NET_BIND_SERVICE | 1<<unix.CAP_KILL
	umask := uint32(0o027)
	out, err := runPlan(t, &initproto.Plan{
		Args: []string{"sh", "-c", `cat /proc/self/status; echo "umask=$(umask)"; echo "pwd=$(pwd)"; echo "home=$HOME";` +
			`echo "nofile=$(ulimit -n)"; uname >/dev/null 2>&1 && echo uname=ok || echo uname=refused;` +
			`for f in /proc/$$/fd/*; do echo "fd=$(readlink $f)"; done`},
		Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Cwd: "/tmp",
		UID: 1234, GID: 2345, AdditionalGids: []uint32{3456},
		Umask: &umask,
		Caps: &initproto.PlanCaps{LastCap: lastCap, Bounding: caps, Effective: caps, Permitted: caps,
			Inheritable: caps, Ambient: []int{unix.CAP_NET_BIND_SERVICE, unix.CAP_KILL}},
		NoNewPrivs: true,
		Seccomp:    &initproto.PlanSeccomp{Program: prog},
		Rlimits:    []initproto.PlanRlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 77, Hard: 99, Name: "RLIMIT_NOFILE"}},
	})
	if err != nil {
		t.Fatalf("plan failed: %v", err)
	}
	for field, want := range map[string]string{
		"Uid": "1234\t1234\t1234\t1234", "Gid": "2345\t2345\t2345\t2345", "Groups": "3456",
		"CapEff": "0000000000000420", "CapPrm": "0000000000000420", "CapBnd": "0000000000000420",
		"CapAmb": "0000000000000420", "NoNewPrivs": "1", "Seccomp": "2",
	} {
		if got := statusField(out, field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	for _, want := range []string{"umask=0027", "pwd=/tmp", "home=/", "nofile=77", "uname=refused"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "fd=socket:") {
			t.Errorf("an rt socket reached the process: %s", l)
		}
	}
}

// Failures before execve come back to the parent as Error frames with the
// texts rt printed before the plan.
func TestPlanErrors(t *testing.T) {
	for _, c := range []struct {
		p    initproto.Plan
		want string
	}{
		{initproto.Plan{Args: []string{"true"}, Cwd: "/no/such/dir", Env: []string{"PATH=/bin"}},
			"process.cwd: chdir to /no/such/dir: no such file or directory"},
		{initproto.Plan{Args: []string{"no-such-program"}, Cwd: "/", Env: []string{"PATH=/bin:/usr/bin"}},
			`exec: "no-such-program": executable file not found in $PATH`},
		{initproto.Plan{Args: []string{"/no/such/program"}, Cwd: "/"},
			`exec: "/no/such/program": no such file or directory`},
		{initproto.Plan{Args: []string{"/"}, Cwd: "/"}, `exec: "/": is a directory`},
		// No PATH: no directory to search, not even the cwd.
		{initproto.Plan{Args: []string{"sh"}, Cwd: "/bin"}, `exec: "sh": executable file not found in $PATH`},
		{initproto.Plan{Args: []string{"sh"}, Cwd: "/bin", Env: []string{"PATH="}}, `exec: "sh": executable file not found in $PATH`},
	} {
		_, err := runPlan(t, &c.p)
		if err == nil || err.Error() != c.want {
			t.Errorf("plan %v: error %v, want %q", c.p.Args, err, c.want)
		}
	}
}

// A hard rlimit above the caller's, which only CAP_SYS_RESOURCE may raise,
// is refused with a text that says so. The C stage runs without
// CAP_SYS_RESOURCE (setpriv drops it from its bounding set) and with
// RLIMIT_NOFILE 1024:1024.
func TestPlanRlimitAboveHard(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv (util-linux) to drop CAP_SYS_RESOURCE")
	}
	limit := func(pid int) {
		if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 1024}, nil); err != nil {
			t.Errorf("prlimit: %v", err)
		}
	}
	wrap := []string{setpriv, "--bounding-set=-sys_resource", "--inh-caps=-all", "--"}
	p := &initproto.Plan{Args: []string{"/bin/true"}, Cwd: "/",
		Rlimits: []initproto.PlanRlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 2048, Name: "RLIMIT_NOFILE"}}}
	_, err = runPlanWith(t, p, wrap, nil, limit)
	want := "process.rlimits: RLIMIT_NOFILE hard limit 2048 exceeds the caller's hard limit 1024 (raising it needs CAP_SYS_RESOURCE): operation not permitted"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	// Lowering is allowed, and the soft limit may be anything up to it.
	p.Rlimits[0].Soft, p.Rlimits[0].Hard = 100, 512
	if _, err := runPlanWith(t, p, wrap, nil, limit); err != nil {
		t.Fatalf("lowering RLIMIT_NOFILE: %v", err)
	}
}

// The AppArmor profile is written only to a thread attribute that is on a
// real procfs: a /proc replaced by something else (CVE-2019-16884,
// CVE-2023-28642) is refused, and nothing is written to it. The C stage
// runs in a mount namespace of its own where a directory with the
// attribute files is bind-mounted over /proc.
func TestPlanAppArmorNotProcfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces)")
	}
	nsenterCmd, err := exec.LookPath("nsenter")
	if err != nil {
		t.Skip("no nsenter (util-linux) to mount in the C stage's mount namespace")
	}
	fake := t.TempDir()
	attr := filepath.Join(fake, "thread-self", "attr", "apparmor", "exec")
	if err := os.MkdirAll(filepath.Dir(attr), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(attr, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fake, "thread-self", "attr", "exec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	mountFake := func(pid int) {
		ns := fmt.Sprintf("/proc/%d/ns/mnt", pid)
		if l, err := os.Readlink(ns); err != nil || l == self {
			t.Fatalf("the C stage is not in a mount namespace of its own (%s: %s, %v)", ns, l, err)
		}
		if out, err := exec.Command(nsenterCmd, "--mount="+ns, "mount", "--bind", fake, "/proc").CombinedOutput(); err != nil {
			t.Fatalf("bind-mount over /proc: %v: %s", err, out)
		}
	}
	_, err = runPlanWith(t, &initproto.Plan{Args: []string{"/bin/true"}, Cwd: "/", Apparmor: "rt-test"}, nil,
		&syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}, mountFake)
	want := `process.apparmorProfile: apply apparmor profile "rt-test": /proc is not the root of a procfs`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if b, _ := os.ReadFile(attr); len(b) != 0 {
		t.Fatalf("written to a file that is not on procfs: %q", b)
	}
}
