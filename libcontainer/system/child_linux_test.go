package system

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// childEnv selects a child mode when the test binary re-executes itself.
const childEnv = "RT_SYSTEM_TEST_CHILD"

// children run on a locked OS thread in a fresh process, like rt's init.
// Those that exec print the exec'd program's output.
var children = map[string]func() error{
	"rlimit-raise": func() error {
		if err := dropEffectiveCap(unix.CAP_SYS_RESOURCE); err != nil {
			return err
		}
		if err := SetRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}}); err != nil {
			return err
		}
		err := SetRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}})
		fmt.Print(err)
		return nil
	},
	"rlimit-set": func() error {
		if err := SetRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0}}); err != nil {
			return err
		}
		return unix.Exec("/bin/sh", []string{"sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -c"}, os.Environ())
	},
	"personality": func() error {
		if err := SetPersonality(&specs.LinuxPersonality{Domain: specs.PerLinux32}); err != nil {
			return err
		}
		return unix.Exec("/bin/uname", []string{"uname", "-m"}, os.Environ())
	},
	"user": func() error {
		if err := SetUser(1000, 1001, []uint32{2000, 3000}); err != nil {
			return err
		}
		if err := SetNoNewPrivileges(); err != nil {
			return err
		}
		return unix.Exec("/bin/grep", []string{"grep", "-E", "^(Uid|Gid|Groups|NoNewPrivs):", "/proc/self/status"}, os.Environ())
	},
	"cloexec": func() error {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // deliberately without O_CLOEXEC
		if err != nil {
			return err
		}
		if err := unix.Dup2(fd, 77); err != nil {
			return err
		}
		if err := CloseExecFrom(3); err != nil {
			return err
		}
		return unix.Exec("/bin/ls", []string{"ls", "/proc/self/fd"}, os.Environ())
	},
	"cloexec-proc": func() error {
		if err := unix.Dup2(1, 78); err != nil {
			return err
		}
		if err := closeExecFromProc(3); err != nil {
			return err
		}
		return unix.Exec("/bin/ls", []string{"ls", "/proc/self/fd"}, os.Environ())
	},
	"sched-ioprio-oom": func() error {
		if err := SetScheduler(&specs.Scheduler{Policy: specs.SchedBatch, Nice: 7}); err != nil {
			return err
		}
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			return err
		}
		if err := SetIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 5}); err != nil {
			return err
		}
		prio, _, e := unix.RawSyscall(unix.SYS_IOPRIO_GET, 1, 0, 0)
		if e != 0 {
			return e
		}
		if err := SetOOMScoreAdj(0, 321); err != nil {
			return err
		}
		oom, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			return err
		}
		fmt.Printf("policy=%d nice=%d ioprio=%#x oom=%s", attr.Policy, attr.Nice, prio, strings.TrimSpace(string(oom)))
		return nil
	},
}

func dropEffectiveCap(c int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << uint(c%32)
	return unix.Capset(&hdr, &data[0])
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

func runChild(t *testing.T, mode string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the child changes credentials and limits")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v\nstdout: %s\nstderr: %s", mode, err, out, stderr.String())
	}
	return string(out)
}

func TestRlimitRaiseAboveHardIsClear(t *testing.T) {
	got := runChild(t, "rlimit-raise")
	want := "process.rlimits: RLIMIT_NOFILE hard limit 2048 exceeds the caller's hard limit 1024 (raising it needs CAP_SYS_RESOURCE): operation not permitted"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestSetRlimits(t *testing.T) {
	if got := runChild(t, "rlimit-set"); got != "100\n200\n0\n" {
		t.Fatalf("ulimit output %q", got)
	}
}

func TestSetPersonalityLinux32(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("LINUX32 check expects an x86_64 kernel, have %s", runtime.GOARCH)
	}
	if got := strings.TrimSpace(runChild(t, "personality")); got != "i686" {
		t.Fatalf("uname -m = %q, want i686", got)
	}
}

func TestSetUserAndNoNewPrivs(t *testing.T) {
	got := runChild(t, "user")
	for _, want := range []string{"Uid:\t1000\t1000\t1000\t1000", "Gid:\t1001\t1001\t1001\t1001", "Groups:\t2000 3000", "NoNewPrivs:\t1"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestCloseExecFrom(t *testing.T) {
	for _, mode := range []string{"cloexec", "cloexec-proc"} {
		fds := strings.Fields(runChild(t, mode))
		// ls itself holds fd 3 for the directory; nothing else may survive.
		for _, fd := range fds {
			if fd != "0" && fd != "1" && fd != "2" && fd != "3" {
				t.Errorf("%s: fd %s survived execve (all: %v)", mode, fd, fds)
			}
		}
	}
}

func TestSchedulerIOPriorityOOM(t *testing.T) {
	got := runChild(t, "sched-ioprio-oom")
	if want := "policy=3 nice=7 ioprio=0x4005 oom=321"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
