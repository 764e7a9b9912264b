package system

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv selects a child mode when the test binary re-executes itself.
const childEnv = "RT_SYSTEM_TEST_CHILD"

// children run on a locked OS thread in a fresh process. Those that exec
// print the exec'd program's output.
var children = map[string]func() error{
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
	"oom": func() error {
		if err := SetOOMScoreAdj(0, 321); err != nil {
			return err
		}
		oom, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			return err
		}
		fmt.Printf("oom=%s", strings.TrimSpace(string(oom)))
		return nil
	},
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

func TestSetOOMScoreAdj(t *testing.T) {
	if got, want := runChild(t, "oom"), "oom=321"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
