package engines

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const ctrTimeout = 60 * time.Second

// ctrSession runs ctr commands in the environment's ctr namespace, with rt
// (through the logging wrapper) as the runc v2 shim's runtime binary.
type ctrSession struct {
	e *engineEnv
	t *testing.T
}

// runOpts are the `ctr run` options that make the shim call rt.
func (s ctrSession) runOpts() []string {
	return []string{"--runc-binary", s.e.wrapper, "--runc-root", s.e.ctrRoot, "--fifo-dir", filepath.Join(s.e.dir, "fifo")}
}

// run runs ctr and returns its trimmed combined output and exit code.
func (s ctrSession) run(args ...string) (string, int) {
	s.t.Helper()
	out, rc, err := s.e.ctr(ctrTimeout, s.e.ctrNS, args...)
	if err != nil {
		s.t.Fatalf("%v: %s", err, out)
	}
	return strings.TrimSpace(out), rc
}

// mustRun runs ctr and fails unless it exits 0.
func (s ctrSession) mustRun(args ...string) string {
	s.t.Helper()
	out, rc := s.run(args...)
	if rc != 0 {
		s.t.Fatalf("ctr %s: exit %d: %s", strings.Join(args, " "), rc, out)
	}
	return out
}

// task returns the pid and status of task id from `ctr tasks ls` ("" if absent).
func (s ctrSession) task(id string) (int, string) {
	s.t.Helper()
	out := s.mustRun("tasks", "ls")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

func (s ctrSession) waitStatus(id, want string) {
	s.t.Helper()
	var got string
	for i := 0; i < 100; i++ {
		if _, got = s.task(id); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("task %s status %q, want %q", id, got, want)
}

// runDetached starts id running args and removes it when the test ends.
func (s ctrSession) runDetached(id string, opts []string, args ...string) {
	s.t.Helper()
	s.e.track(s.e.ctrNS, id)
	full := append(append(append([]string{"run", "-d"}, s.runOpts()...), opts...), append([]string{busyboxImage, id}, args...)...)
	s.t.Cleanup(func() { s.remove(id) })
	s.mustRun(full...)
	s.waitStatus(id, "RUNNING")
}

// remove kills and deletes id if it is still there (cleanup, errors ignored).
func (s ctrSession) remove(id string) {
	if _, st := s.task(id); st != "" {
		if st == "PAUSED" {
			s.e.ctr(ctrTimeout, s.e.ctrNS, "tasks", "resume", id)
		}
		s.e.ctr(ctrTimeout, s.e.ctrNS, "tasks", "kill", "-s", "SIGKILL", id)
		for i := 0; i < 50; i++ {
			if _, st = s.task(id); st == "STOPPED" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.e.ctr(ctrTimeout, s.e.ctrNS, "tasks", "delete", "-f", id)
	}
	s.e.ctr(ctrTimeout, s.e.ctrNS, "containers", "delete", id)
}

// TestCtrScenario runs containers through containerd's own API (ctr, runc v2
// shim with --runc-binary rt): foreground runs with output and exit codes,
// exec (plain and with a TTY), pause/resume, kill and a memory limit.
func TestCtrScenario(t *testing.T) {
	e := engine(t)

	t.Run("RunRmEcho", func(t *testing.T) {
		s := ctrSession{e, t}
		e.track(e.ctrNS, "rt-echo")
		out, rc := s.run(append(append([]string{"run", "--rm"}, s.runOpts()...), busyboxImage, "rt-echo", "echo", "hello")...)
		if rc != 0 || out != "hello" {
			t.Fatalf("ctr run echo hello: exit %d, output %q; want 0, hello", rc, out)
		}
	})
	t.Run("RunRmExitCode", func(t *testing.T) {
		s := ctrSession{e, t}
		e.track(e.ctrNS, "rt-exit")
		out, rc := s.run(append(append([]string{"run", "--rm"}, s.runOpts()...), busyboxImage, "rt-exit", "sh", "-c", "exit 7")...)
		if rc != 7 {
			t.Fatalf("ctr run sh -c 'exit 7': exit %d (%s), want 7", rc, out)
		}
	})
	t.Run("DetachedLifecycle", func(t *testing.T) {
		s := ctrSession{e, t}
		const id = "rt-sleep"
		s.runDetached(id, nil, "sleep", "1000")
		if out := s.mustRun("tasks", "exec", "--exec-id", "e1", id, "echo", "from-exec"); out != "from-exec" {
			t.Fatalf("exec echo: output %q, want from-exec", out)
		}
		if out, rc := s.run("tasks", "exec", "--exec-id", "e2", id, "sh", "-c", "exit 3"); rc != 3 {
			t.Fatalf("exec exit 3: exit %d (%s), want 3", rc, out)
		}
		// exec -t needs a terminal on ctr's side: script(1) provides one
		cmd := []string{"ctr", "-a", e.sock, "-n", e.ctrNS, "tasks", "exec", "-t", "--exec-id", "e3", id,
			"sh", "-c", "test -t 0 && test -t 1 && echo exec-is-tty; tty"}
		out, err := runScript(cmd)
		if err != nil || !strings.Contains(out, "exec-is-tty") || !strings.Contains(out, "/dev/pts/") {
			t.Fatalf("exec -t: %v, output %q; want exec-is-tty and a /dev/pts tty", err, out)
		}
		s.mustRun("tasks", "pause", id)
		s.waitStatus(id, "PAUSED")
		s.mustRun("tasks", "resume", id)
		s.waitStatus(id, "RUNNING")
		if out := s.mustRun("tasks", "exec", "--exec-id", "e4", id, "echo", "after-resume"); out != "after-resume" {
			t.Fatalf("exec after resume: output %q", out)
		}
		s.mustRun("tasks", "kill", "-s", "SIGKILL", id)
		s.waitStatus(id, "STOPPED")
		s.mustRun("tasks", "delete", id)
		s.mustRun("containers", "delete", id)
		if out := s.mustRun("containers", "ls", "-q"); strings.Contains(out, id) {
			t.Fatalf("container %s still listed after delete: %s", id, out)
		}
	})
	t.Run("MemoryLimit", func(t *testing.T) {
		s := ctrSession{e, t}
		const id, limit = "rt-mem", 64 << 20
		s.runDetached(id, []string{"--memory-limit", strconv.Itoa(limit)}, "sleep", "1000")
		pid, _ := s.task(id)
		got, err := memoryLimitOf(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got != limit {
			t.Fatalf("memory limit of pid %d = %d, want %d", pid, got, limit)
		}
	})
	t.Run("RuntimeWasRt", func(t *testing.T) {
		for _, call := range e.runtimeCalls() {
			f := strings.Fields(call)
			if contains(f, "create") && contains(f, filepath.Join(e.ctrRoot, e.ctrNS)) {
				return
			}
		}
		t.Fatalf("no `rt --root %s/%s create` call in %s", e.ctrRoot, e.ctrNS, e.callLog)
	})
}

// runScript runs cmd under script(1), which gives it a pseudo-terminal.
func runScript(cmd []string) (string, error) {
	quoted := make([]string, len(cmd))
	for i, a := range cmd {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	c := exec.Command("timeout", "-k", "5", strconv.Itoa(int(ctrTimeout.Seconds())), "script", "-qec", strings.Join(quoted, " "), "/dev/null")
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("script -qec %s: %w", strings.Join(cmd, " "), err)
	}
	return string(out), nil
}
