package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pidOfPidfd reads the pid a pidfd refers to from /proc/self/fdinfo.
func pidOfPidfd(t *testing.T, fd uintptr) int {
	t.Helper()
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/self/fdinfo/%d", fd)), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatalf("fd %d is not a pidfd", fd)
	return 0
}

func TestPidfdSocket(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	recv := newConsoleReceiver(t)
	id, pid := createContainer(t, b, "--pidfd-socket", recv.path)
	pidfd := recv.wait(t)
	if got := pidOfPidfd(t, pidfd.Fd()); got != pid {
		t.Fatalf("create --pidfd-socket: pidfd of pid %d, container init is %d", got, pid)
	}
	mustRT(t, "start", id)

	// exec --pidfd-socket: a pidfd of the exec'd process.
	recv2 := newConsoleReceiver(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "exec", "--detach", "--pid-file", pidFile, "--pidfd-socket", recv2.path, id, "sleep", "999")
	epidfd := recv2.wait(t)
	epid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	trackPid(t, epid)
	if got := pidOfPidfd(t, epidfd.Fd()); got != epid {
		t.Errorf("exec --pidfd-socket: pidfd of pid %d, exec'd process is %d", got, epid)
	}
	// The pidfd works: signal the init through it.
	if err := unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal: %v", err)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("init %d survived SIGKILL through its pidfd", pid)
	}
	waitStatus(t, id, "stopped")
}

// run --detach starts the container within its create (the state is
// written while the init execs): the pidfd and the pid file still name the
// init, which runs the process, and the state says running.
func TestRunPidfdSocketAndPidFile(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	recv := newConsoleReceiver(t)
	id := newID(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "run", "--detach", "--pid-file", pidFile, "--pidfd-socket", recv.path, "--bundle", b.Dir, id)
	st := state(t, id)
	trackPid(t, st.Pid)
	if st.Status != "running" {
		t.Errorf("status %q after run --detach, want running", st.Status)
	}
	if got, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile))); got != st.Pid {
		t.Errorf("run --pid-file: %d, the init is %d", got, st.Pid)
	}
	pidfd := recv.wait(t)
	if got := pidOfPidfd(t, pidfd.Fd()); got != st.Pid {
		t.Errorf("run --pidfd-socket: pidfd of pid %d, the init is %d", got, st.Pid)
	}
	if comm := strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/comm", st.Pid))); comm != "sleep" {
		t.Errorf("the init runs %q, want sleep", comm)
	}
	if _, err := os.Stat(filepath.Join(ctxFor(t).root, id, "exec.fifo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exec.fifo after run: %v", err)
	}
}
