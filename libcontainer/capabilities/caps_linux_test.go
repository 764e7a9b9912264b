package capabilities

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// childEnv selects a child mode when the test binary re-executes itself.
const childEnv = "RT_CAPS_TEST_CHILD"

var testCaps = &specs.LinuxCapabilities{
	Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Effective:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Inheritable: []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
	Ambient:     []string{"CAP_NET_BIND_SERVICE"},
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild applies testCaps on a locked thread with the init's own calls.
// Mode "thread" prints this thread's status after ApplyBoundingSet and
// ApplyCaps; mode "exec-user" changes to uid/gid 1000 with ChangeUser (the
// init's user switch, keeping caps) and execs grep on /proc/self/status.
func runChild(mode string) error {
	runtime.LockOSThread()
	c, err := New(testCaps)
	if err != nil {
		return err
	}
	if err := c.ApplyBoundingSet(); err != nil {
		return err
	}
	if mode == "exec-user" {
		if err := c.ChangeUser(1000, 1000, nil); err != nil {
			return err
		}
	} else if err := c.ApplyCaps(); err != nil {
		return err
	}
	if mode == "thread" {
		b, err := os.ReadFile("/proc/thread-self/status")
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(b)
		return err
	}
	return unix.Exec("/bin/grep", []string{"grep", "^Cap", "/proc/self/status"}, os.Environ())
}

func runChildStatus(t *testing.T, mode string) map[string]uint64 {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: capset and PR_CAPBSET_DROP require CAP_SETPCAP")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	res := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Cap") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", sc.Text(), err)
		}
		res[k] = n
	}
	return res
}

func expect(t *testing.T, got map[string]uint64, want map[string]uint64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#x, want %#x (all: %#v)", k, got[k], v, got)
		}
	}
}

func TestApplyOnThread(t *testing.T) {
	got := runChildStatus(t, "thread")
	// CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10
	expect(t, got, map[string]uint64{
		"CapBnd": 0x421, "CapEff": 0x421, "CapPrm": 0x421, "CapInh": 0x401, "CapAmb": 0x400,
	})
}

func TestApplyThenExecAsUser(t *testing.T) {
	got := runChildStatus(t, "exec-user")
	// After execve as uid 1000 of a file without file caps, permitted and
	// effective become the ambient set; inheritable and bounding are kept.
	expect(t, got, map[string]uint64{
		"CapBnd": 0x421, "CapEff": 0x400, "CapPrm": 0x400, "CapInh": 0x401, "CapAmb": 0x400,
	})
}
