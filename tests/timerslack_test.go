package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rtTimerSlack is the timer slack rt gives its own threads
// (cmd/rt/timerslack.go).
const rtTimerSlack = 1000000

// TestChildrenKeepTimerSlack: rt's own threads run with a coarse timer
// slack, and nothing rt starts inherits it: the container's process, an
// exec'd one and a hook get the slack rt was started with (here, the
// test's).
func TestChildrenKeepTimerSlack(t *testing.T) {
	mine := strings.TrimSpace(readFile(t, "/proc/self/timerslack_ns"))
	dir := t.TempDir()
	hookOut := filepath.Join(dir, "hook")
	b := newBundle(t, withArgs("sh", "-c", "cat /proc/self/timerslack_ns; sleep 2"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sh",
			Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > " + hookOut}}}}
	})
	id := newID(t)
	out, err := os.CreateTemp(dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rtBinary, "--root", ctxFor(t).root, "run", "--bundle", b.Dir, id)
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		rt(t, "delete", "--force", id)
		<-done
	}()
	if !pollUntil(10*time.Second, func() bool { d, _ := os.ReadFile(out.Name()); return len(d) > 0 }) {
		t.Fatal("the container printed nothing")
	}
	// rt's threads, while it waits for the container.
	n, _ := strconv.Atoi(mine)
	if n >= rtTimerSlack {
		t.Logf("the test's own timer slack (%d ns) is not below rt's: rt keeps it", n)
	} else {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if got := strings.TrimSpace(readFile(t, "/proc/"+task.Name()+"/timerslack_ns")); got != strconv.Itoa(rtTimerSlack) {
				t.Errorf("rt's thread %s has timer slack %s, want %d", task.Name(), got, rtTimerSlack)
			}
		}
	}
	if got, _ := os.ReadFile(out.Name()); strings.TrimSpace(string(got)) != mine {
		t.Errorf("the container's process has timer slack %q, want the test's %s", strings.TrimSpace(string(got)), mine)
	}
	if got := strings.TrimSpace(readFile(t, hookOut)); got != mine {
		t.Errorf("the prestart hook has timer slack %s, want the test's %s", got, mine)
	}
	if got := strings.TrimSpace(mustRT(t, "exec", id, "cat", "/proc/self/timerslack_ns")); got != mine {
		t.Errorf("an exec'd process has timer slack %s, want the test's %s", got, mine)
	}
}
