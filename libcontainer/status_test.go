package libcontainer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// startSleeper starts a child that sleeps until killed, standing in for a
// container's init (no root needed), and returns it with its start time.
func startSleeper(t *testing.T, path string) (*exec.Cmd, uint64) {
	t.Helper()
	cmd := exec.Command(path, "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	start, state, err := procStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// Right after fork/exec the child may still be in R or D (faulting
	// in its binary) before it sleeps: any state but dead or zombie.
	if state == 'Z' || state == 'X' {
		t.Fatalf("state letter of a live child: %q", state)
	}
	return cmd, start
}

// containerWith writes a state for id under a new root and loads it.
func containerWith(t *testing.T, id string, st *State) *Container {
	t.Helper()
	root := t.TempDir()
	d, err := newStateDir(root, id)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	st.ID = id
	if st.Config == nil {
		st.Config = &configs.Config{Bundle: "/bundles/" + id, Annotations: map[string]string{"k": "v"}}
	}
	if err := writeState(d.path, st); err != nil {
		t.Fatal(err)
	}
	c, err := Load(root, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStatusFromKernel: the status is read from the init process and the
// exec fifo, never trusted from the state file: a live init waiting on
// the fifo is created, without it running; a recycled pid (another start
// time), a zombie and a reaped init are stopped.
func TestStatusFromKernel(t *testing.T) {
	cmd, start := startSleeper(t, "/bin/sleep")
	pid := cmd.Process.Pid

	c := containerWith(t, "alive", &State{InitPid: pid, InitStart: start})
	fifo := filepath.Join(c.dir, execFifoFile)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := c.Status(); s != Created {
		t.Errorf("live init with its exec fifo: %s, want created", s)
	}
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if s := c.Status(); s != Running {
		t.Errorf("live init, fifo gone: %s, want running", s)
	}
	if s := containerWith(t, "creating", &State{InitPid: pid, InitStart: start, Creating: true}).Status(); s != Creating {
		t.Errorf("live init, create not finished: %s, want creating", s)
	}
	if s := containerWith(t, "recycled", &State{InitPid: pid, InitStart: start + 1}).Status(); s != Stopped {
		t.Errorf("pid with another start time (recycled): %s, want stopped", s)
	}

	// Killed but not reaped: a zombie is stopped.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if _, state, err := procStartTime(pid); err != nil || state != 'Z' {
		t.Fatalf("killed child not a zombie: %q, %v", state, err)
	}
	if s := c.Status(); s != Stopped {
		t.Errorf("zombie init: %s, want stopped", s)
	}
	cmd.Wait()
	if s := c.Status(); s != Stopped {
		t.Errorf("reaped init: %s, want stopped", s)
	}
}

// TestOCIState: the OCI state carries the config's bundle and
// annotations, and no pid once stopped.
func TestOCIState(t *testing.T) {
	cmd, start := startSleeper(t, "/bin/sleep")
	c := containerWith(t, "oci", &State{InitPid: cmd.Process.Pid, InitStart: start})
	st := c.OCIState()
	want := specs.State{Version: specs.Version, ID: "oci", Status: specs.StateRunning, Pid: cmd.Process.Pid,
		Bundle: "/bundles/oci", Annotations: map[string]string{"k": "v"}}
	if st.Version != want.Version || st.ID != want.ID || st.Status != want.Status || st.Pid != want.Pid ||
		st.Bundle != want.Bundle || st.Annotations["k"] != "v" {
		t.Errorf("running: %+v, want %+v", *st, want)
	}
	if st := c.ociState(Stopped); st.Pid != 0 || st.Status != specs.StateStopped {
		t.Errorf("stopped: pid %d status %s, want 0 and stopped", st.Pid, st.Status)
	}
}

// TestProcStartTimeOddComm: /proc/<pid>/stat is parsed after the last ')'
// of the command name, which may hold spaces and parentheses.
func TestProcStartTimeOddComm(t *testing.T) {
	odd := filepath.Join(t.TempDir(), "x) 1 2 (y")
	data, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, start := startSleeper(t, odd) // fails on a state letter other than S or R
	stat, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if want := "(x) 1 2 (y)"; !strings.Contains(string(stat), want) {
		t.Fatalf("comm in %q is not %q: the test shows nothing", stat, want)
	}
	if !processAlive(cmd.Process.Pid, start) {
		t.Error("processAlive: false for a live process with an odd name")
	}
}

// TestListSkipsWhatIsNotAContainer: List returns the containers of a
// root sorted by id, skipping directories without a state, hidden
// entries and files; a missing root has none.
func TestListSkipsWhatIsNotAContainer(t *testing.T) {
	root := t.TempDir()
	for _, id := range []string{"b", "a"} {
		d, err := newStateDir(root, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeState(d.path, &State{ID: id, Config: &configs.Config{}}); err != nil {
			t.Fatal(err)
		}
		d.unlock()
	}
	os.Mkdir(filepath.Join(root, "nostate"), 0o700)
	os.Mkdir(filepath.Join(root, ".hidden"), 0o700)
	os.WriteFile(filepath.Join(root, "file"), nil, 0o600)
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID())
	}
	if len(ids) != 2 || ids[0] != "a" || ids[1] != "b" {
		t.Errorf("List: %q, want [a b]", ids)
	}
	// The caller decides (runc: fine for the default root, an error for a
	// --root it was given): List reports it.
	if list, err := List(filepath.Join(root, "missing")); !errors.Is(err, os.ErrNotExist) || list != nil {
		t.Errorf("List of a missing root: %v, %v; want an os.ErrNotExist error", list, err)
	}
}
