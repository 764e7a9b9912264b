package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const childEnv = "RT_SECCOMP_TEST_CHILD"

// blockProfile denies getcwd and mkdir(at) with EPERM, dup3 with
// O_CLOEXEC with EBADE, and names a syscall libseccomp does not know.
func blockProfile(fl ...specs.LinuxSeccompFlag) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:         fl,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getcwd", "mkdir", "mkdirat", "no_such_syscall_rt"}, Action: specs.ActErrno},
			{Names: []string{"dup3"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EBADE)),
				Args: []specs.LinuxSeccompArg{{Index: 2, Value: unix.O_CLOEXEC, Op: specs.OpMaskedEqual, ValueTwo: unix.O_CLOEXEC}}},
			{Names: []string{"read"}, Action: specs.ActAllow},
		},
	}
}

// install compiles s and installs it on the calling thread.
func install(s *specs.LinuxSeccomp) (int, error) {
	p, err := Compile(s)
	if err != nil {
		return -1, err
	}
	return installBPF(p)
}

// installBPF installs what p.BPF gives (the records and flags the parent
// puts in the process plan) with seccomp(2), as the C stage does
// (nsenter/plan.c): these tests check what the compiled program does, not a
// Go copy of the applier. It returns the notify fd with NEW_LISTENER, else -1.
func installBPF(p *Program) (int, error) {
	raw, fl := p.BPF()
	prog, err := decodeBPF(raw)
	if err != nil {
		return -1, err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(fl), uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return -1, fmt.Errorf("seccomp(SET_MODE_FILTER, %#x): %w", fl, e)
	}
	if fl&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	if r != 0 {
		return -1, fmt.Errorf("seccomp with TSYNC: thread %d could not be synchronised", r)
	}
	return -1, nil
}

var children = map[string]func() error{
	"block": func() error {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return err
		}
		if fd, err := install(blockProfile()); err != nil || fd != -1 {
			return fmt.Errorf("install: fd %d, %w", fd, err)
		}
		_, cwdErr := unix.Getwd()
		mkErr := unix.Mkdir(filepath.Join(os.TempDir(), "rt-seccomp-never"), 0o755)
		dupErr := unix.Dup3(0, 100, unix.O_CLOEXEC)
		dupOK := unix.Dup3(0, 101, 0)
		fmt.Printf("getcwd=%v mkdir=%v dup3cloexec=%v dup3=%v filtered=%d\n", cwdErr, mkErr, dupErr, dupOK, filteredThreads())
		// The filter survives execve.
		return unix.Exec("/bin/sh", []string{"sh", "-c", "mkdir /tmp/rt-seccomp-never-exec 2>/dev/null; echo exec-mkdir-rc=$?"}, os.Environ())
	},
	"tsync": func() error {
		// Without no_new_privs: allowed because the test runs with CAP_SYS_ADMIN.
		if _, err := install(blockProfile("SECCOMP_FILTER_FLAG_TSYNC")); err != nil {
			return err
		}
		fmt.Printf("filtered=%d threads=%d\n", filteredThreads(), threads())
		return nil
	},
	"notify": func() error {
		s := &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActNotify}},
			ListenerPath:  os.Getenv("RT_SECCOMP_LISTENER"),
		}
		p, err := Compile(s)
		if err != nil {
			return err
		}
		if !p.Notify() {
			return errors.New("a profile with SCMP_ACT_NOTIFY compiles to a program without Notify")
		}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return err
		}
		fd, err := installBPF(p)
		if err != nil {
			return err
		}
		if fd < 0 {
			return fmt.Errorf("install of a notify profile returned fd %d", fd)
		}
		return SendNotifyFd(s.ListenerPath, fd, os.Getpid(), "meta", specs.State{Version: specs.Version, ID: "ctr", Status: specs.StateCreating, Pid: os.Getpid(), Bundle: "/b"})
	},
}

// filteredThreads counts this process's threads in seccomp filter mode.
func filteredThreads() int {
	n := 0
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), "\nSeccomp:\t2\n") {
			n++
		}
	}
	return n
}

func threads() int {
	tasks, _ := filepath.Glob("/proc/self/task/*")
	return len(tasks)
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		runtime.LockOSThread()
		if err := children[mode](); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(t *testing.T, mode string, env ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) for the seccomp child tests")
	}
	if !Enabled() {
		t.Skip("kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v\nstdout: %s\nstderr: %s", mode, err, out, stderr.String())
	}
	return string(out)
}

func TestInstallBlocksOnThisThreadOnly(t *testing.T) {
	got := runChild(t, "block")
	want := "getcwd=operation not permitted mkdir=operation not permitted dup3cloexec=invalid exchange dup3=<nil> filtered=1\nexec-mkdir-rc=1\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if _, err := os.Stat("/tmp/rt-seccomp-never-exec"); err == nil {
		os.Remove("/tmp/rt-seccomp-never-exec")
		t.Fatal("mkdir after execve was not blocked")
	}
}

func TestInstallTsyncFlag(t *testing.T) {
	got := runChild(t, "tsync")
	var filtered, threads int
	if _, err := fmt.Sscanf(got, "filtered=%d threads=%d", &filtered, &threads); err != nil {
		t.Fatalf("%q: %v", got, err)
	}
	if filtered != threads || threads < 2 {
		t.Fatalf("TSYNC must filter every thread: %q", got)
	}
}

func TestInstallNotifySendsFd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "listener.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		state specs.ContainerProcessState
		link  string
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() { ch <- r }()
		c, err := l.AcceptUnix()
		if err != nil {
			r.err = err
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			r.err = err
			return
		}
		if r.err = json.Unmarshal(buf[:n], &r.state); r.err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			r.err = fmt.Errorf("control messages: %v %d", err, len(msgs))
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			r.err = fmt.Errorf("rights: %v %v", err, fds)
			return
		}
		r.link, r.err = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fds[0]))
		unix.Close(fds[0])
	}()
	runChild(t, "notify", "RT_SECCOMP_LISTENER="+sock)
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.link != "anon_inode:seccomp notify" {
		t.Fatalf("received fd is %q", r.link)
	}
	if r.state.Metadata != "meta" || len(r.state.Fds) != 1 || r.state.Fds[0] != "seccompFd" || r.state.State.ID != "ctr" {
		t.Fatalf("state: %+v", r.state)
	}
}

// A stored program reads back as compiled, and only with its own key.
func TestProgramMarshalRoundTrip(t *testing.T) {
	p, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdirat", "uname"}, Action: specs.ActErrno}},
	})
	if err != nil {
		t.Fatal(err)
	}
	key := [32]byte{1, 2, 3}
	data := p.MarshalBinary(key)
	got, err := UnmarshalProgram(data, key)
	if err != nil {
		t.Fatal(err)
	}
	a, af := p.BPF()
	if b, bf := got.BPF(); string(a) != string(b) || af != bf || got.Notify() != p.Notify() {
		t.Errorf("read back %d bytes flags %#x, want %d bytes flags %#x", len(b), bf, len(a), af)
	}
	other := key
	other[31] = 9
	for name, d := range map[string][]byte{
		"other key": data, "truncated": data[:len(data)-3], "header only": data[:len(programMagic)+37],
		"bad magic":        append([]byte("x"), data[1:]...),
		"one record short": append(append([]byte{}, data[:len(data)-40]...), data[len(data)-32:]...),
		"flipped bit":      func() []byte { d := append([]byte{}, data...); d[len(d)-40] ^= 1; return d }(),
	} {
		k := key
		if name == "other key" {
			k = other
		}
		if _, err := UnmarshalProgram(d, k); !errors.Is(err, ErrStaleProgram) {
			t.Errorf("%s: %v, want ErrStaleProgram", name, err)
		}
	}
}
