package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/intelrdt"
)

// wrappedOnce checks that err is wrapped by verb exactly once with the
// container's id.
func wrappedOnce(t *testing.T, err error, verb, id string) {
	t.Helper()
	want := verb + " container \"" + id + "\": "
	if err == nil {
		t.Fatalf("%s: nil error", verb)
	}
	if !strings.HasPrefix(err.Error(), want) || strings.Count(err.Error(), " container \""+id+"\"") != 1 {
		t.Errorf("%s: %q: want one %q prefix and no other", verb, err, want)
	}
}

// Signal: a refusal of the lifecycle (a stopped container) is runc's bare
// text; a failure (kill --all of a container without a cgroup) is wrapped
// once, "kill container "id": ...".
func TestSignalErrorsWrappedOnce(t *testing.T) {
	stopped := containerWith(t, "gone", &State{})
	err := stopped.Signal(unix.SIGTERM, false)
	if !errors.Is(err, ErrNotRunning) || err.Error() != ErrNotRunning.Error() {
		t.Errorf("kill of a stopped container: %v, want the bare %q", err, ErrNotRunning)
	}

	cmd, start := startSleeper(t, "/bin/sleep")
	alive := containerWith(t, "alive", &State{InitPid: cmd.Process.Pid, InitStart: start})
	err = alive.Signal(unix.SIGTERM, true)
	wrappedOnce(t, err, "kill", "alive")
	if !strings.Contains(err.Error(), "kill all processes") {
		t.Errorf("kill --all without a cgroup: %q does not say what failed", err)
	}
	if !processAlive(cmd.Process.Pid, start) {
		t.Error("the init was signalled although kill --all failed")
	}
}

// Delete: a refusal (a running container without --force) is the
// lifecycle's bare text; a failure to remove something (here a resctrl
// group that is not empty) is wrapped once, "delete container "id": ...",
// keeps the cause for errors.Is, and the rest is removed all the same.
func TestDeleteErrorsWrappedOnce(t *testing.T) {
	cmd, start := startSleeper(t, "/bin/sleep")
	running := containerWith(t, "busy", &State{InitPid: cmd.Process.Pid, InitStart: start})
	err := running.Delete(false)
	var se *StatusError
	if !errors.As(err, &se) || strings.Contains(err.Error(), `delete container "busy"`) {
		t.Errorf("delete of a running container: %v, want the lifecycle's refusal, unwrapped", err)
	}

	rdt := filepath.Join(t.TempDir(), "group")
	if err := os.MkdirAll(filepath.Join(rdt, "busy"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := containerWith(t, "stuck", &State{IntelRdt: &intelrdt.Group{Path: rdt, Created: true}})
	err = c.Delete(false)
	wrappedOnce(t, err, "delete", "stuck")
	if !errors.Is(err, unix.ENOTEMPTY) {
		t.Errorf("delete: %v does not unwrap to ENOTEMPTY", err)
	}
	if _, serr := os.Stat(c.dir); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("state dir after a delete that failed on resctrl: %v, want it removed", serr)
	}
}
