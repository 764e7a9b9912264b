package tests

import (
	"fmt"
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
