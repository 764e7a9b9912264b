package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// forwardedSignals are the signals rt forwards to the process it waits
// for in the foreground, as runc does (runc's signal.Notify of every
// signal): all but those no process can catch (KILL, STOP), those the Go
// runtime keeps (CHLD, URG, PIPE, PROF and the synchronous faults), the C
// library's own (32, 33), and WINCH, which resizes the pty instead. 34 is
// in: the Go runtime cannot catch it when rt is linked against musl, and
// rt's own handler does (it used to kill rt, leaving the container).
var forwardedSignals = func() []int {
	skip := map[int]bool{9: true, 19: true, 17: true, 23: true, 13: true, 27: true,
		11: true, 7: true, 8: true, 4: true, 5: true, 31: true, 32: true, 33: true, 28: true}
	var sigs []int
	for s := 1; s <= 64; s++ {
		if !skip[s] {
			sigs = append(sigs, s)
		}
	}
	return sigs
}()

// trapAll is a shell that prints "got N" for each signal N of sigs it
// receives, after "ready", for up to 30 s.
func trapAll(sigs []int) []string {
	var list []string
	for _, s := range sigs {
		list = append(list, fmt.Sprint(s))
	}
	return []string{"sh", "-c", "for s in " + strings.Join(list, " ") + `; do trap "echo got $s" $s; done; echo ready; ` +
		`i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`}
}

// sendEach sends each signal to pid and waits (bounded) until out shows
// the container got it before the next: signals of one number that arrive
// together merge.
func sendEach(t *testing.T, pid int, sigs []int, out *bytes.Buffer) {
	t.Helper()
	if !pollUntil(10*time.Second, func() bool { return strings.Contains(readLocked(out), "ready") }) {
		t.Fatalf("the container did not start: %q", readLocked(out))
	}
	for _, s := range sigs {
		if err := syscall.Kill(pid, syscall.Signal(s)); err != nil {
			t.Fatalf("kill -%d rt: %v", s, err)
		}
		want := fmt.Sprintf("got %d\n", s)
		if !pollUntil(5*time.Second, func() bool { return strings.Contains(readLocked(out), want) }) {
			t.Fatalf("signal %d was not forwarded; the container printed %q", s, readLocked(out))
		}
	}
}

// TestRunForwardsEverySignal: each forwardable signal sent to `rt run`
// reaches the container's process, and rt lives on through all of them.
func TestRunForwardsEverySignal(t *testing.T) {
	b := newBundle(t, withArgs(trapAll(forwardedSignals)...))
	id := newID(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(rtBinary, "--root", ctxFor(t).root, "run", "--bundle", b.Dir, id)
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &stdout}, &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		rt(t, "kill", id, "KILL")
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("rt run did not end after its container was killed; stderr %q", readLocked(&stderr))
		}
		if code := cmd.ProcessState.ExitCode(); code != 137 {
			t.Errorf("rt run exit %d, want 137 (the container's SIGKILL); stderr %q", code, readLocked(&stderr))
		}
	}()
	sendEach(t, cmd.Process.Pid, forwardedSignals, &stdout)
}

// TestExecForwardsSignals: `rt exec` in the foreground forwards signals
// too (34 among them).
func TestExecForwardsSignals(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "100"))
	id := newID(t)
	mustRT(t, "run", "--detach", "--bundle", b.Dir, id)
	defer rt(t, "delete", "--force", id)
	sigs := []int{1, 10, 15, 34, 64}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(rtBinary, append([]string{"--root", ctxFor(t).root, "exec", id}, trapAll(sigs)...)...)
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &stdout}, &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	sendEach(t, cmd.Process.Pid, sigs, &stdout)
	// SIGKILL is not forwarded (rt cannot catch it): end the container.
	mustRT(t, "kill", id, "KILL")
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("rt exec did not end; stderr %q", readLocked(&stderr))
	}
}

// TestRunStderrClosed: rt's stderr is a pipe nobody reads any more. The
// warning create prints there (an ambient capability it cannot raise)
// fails with EPIPE; rt must not die of SIGPIPE before the container is
// deleted: the exit status is the container's, and nothing is left.
func TestRunStderrClosed(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "exit 3"), func(s *specs.Spec) {
		s.Process.Capabilities.Ambient = []string{"CAP_KILL"}
		s.Process.Capabilities.Inheritable = nil
	})
	id := newID(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(rtBinary, "--root", ctxFor(t).root, "run", "--bundle", b.Dir, id)
	cmd.Stderr = w
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("run with stderr closed: %v (want the container's exit status 3)", err)
	}
	if out := mustRT(t, "list", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("left after run: %q", out)
	}
}
