package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLifecycle(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := createContainer(t, b)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("init pid %d of created container does not exist: %v", pid, err)
	}
	st := state(t, id)
	if st.ID != id || st.Bundle != b.Dir {
		t.Errorf("state id/bundle = %q/%q, want %q/%q", st.ID, st.Bundle, id, b.Dir)
	}
	if st.Version == "" {
		t.Errorf("state lacks ociVersion")
	}
	// While created, the user process has not been exec'd yet.
	if cmd := readFile(t, fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(cmd, "sleep") {
		t.Errorf("created container already runs the user process: %q", cmd)
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
	if !pollUntil(5*time.Second, func() bool {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return strings.HasPrefix(string(c), "sleep\x001000")
	}) {
		t.Errorf("running container's init is not the user process")
	}
	if _, se, code := rt(t, "start", id); code == 0 {
		t.Errorf("second start of a running container succeeded")
	} else if se == "" {
		t.Errorf("second start gave no error message")
	}
	mustRT(t, "kill", id, "KILL")
	waitStatus(t, id, "stopped")
	if st := state(t, id); st.Pid != 0 {
		t.Errorf("stopped container reports pid %d, want 0", st.Pid)
	}
	mustRT(t, "delete", id)
	if _, err := os.Stat(filepath.Join(ctxFor(t).root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir still exists after delete: %v", err)
	}
	_, se, code := rt(t, "state", id)
	if code == 0 {
		t.Fatalf("state after delete succeeded")
	}
	mustContain(t, "state after delete", se, "container does not exist")
}

func TestRunExitCode(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "echo out; echo err >&2; exit 7"))
	so, se, code := runIn(t, b)
	if code != 7 {
		t.Fatalf("exit code %d, want 7 (stderr %s)", code, se)
	}
	if so != "out\n" {
		t.Errorf("stdout %q, want out", so)
	}
	mustContain(t, "stderr", se, "err")
}

func TestRunKilledBySignal(t *testing.T) {
	// Without a pid namespace the shell is not an init process, so a
	// signal without handler terminates it.
	b := newBundle(t, withArgs("sh", "-c", "kill -USR1 $$; sleep 5"), func(s *specs.Spec) {
		setNamespaces(s, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace)
	})
	_, se, code := runIn(t, b)
	if code != 128+10 {
		t.Fatalf("exit code %d, want %d (128+SIGUSR1); stderr %s", code, 128+10, se)
	}
}

func TestRunKilledFromOutside(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id := newID(t)
	done := make(chan result, 1)
	go func() { done <- runRaw(ctxFor(t).root, nil, "run", "--bundle", b.Dir, id) }()
	waitStatus(t, id, "running")
	trackPid(t, state(t, id).Pid)
	mustRT(t, "kill", id, "KILL")
	select {
	case r := <-done:
		if r.code != 128+9 {
			t.Fatalf("run exit code %d, want 137; stderr %s", r.code, r.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("foreground run did not return after its container was killed")
	}
}

func TestRunDetach(t *testing.T) {
	for _, flag := range []string{"--detach", "-d", "-detach"} {
		t.Run(strings.TrimLeft(flag, "-"), func(t *testing.T) {
			b := newBundle(t, withArgs("sleep", "1000"))
			id := newID(t)
			start := time.Now()
			mustRT(t, "run", flag, "--bundle", b.Dir, id)
			if time.Since(start) > 20*time.Second {
				t.Errorf("run %s did not return promptly", flag)
			}
			st := state(t, id)
			trackPid(t, st.Pid)
			if st.Status != "running" {
				t.Errorf("status %q after run %s, want running", st.Status, flag)
			}
		})
	}
}

func TestList(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id1, _ := startContainer(t, b)
	id2, pid2 := createContainer(t, b)
	out := mustRT(t, "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("list: want header + 2 rows, got:\n%s", out)
	}
	hdr := strings.Fields(lines[0])
	for i, w := range []string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"} {
		if i >= len(hdr) || hdr[i] != w {
			t.Fatalf("list header %q, want ID PID STATUS BUNDLE CREATED OWNER", lines[0])
		}
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	if r := rows[id1]; len(r) < 4 || r[2] != "running" || r[3] != b.Dir {
		t.Errorf("list row for %s: %v", id1, r)
	}
	if r := rows[id2]; len(r) < 4 || r[1] != strconv.Itoa(pid2) || r[2] != "created" {
		t.Errorf("list row for %s: %v, want pid %d created", id2, r, pid2)
	}
	if r := rows[id1]; len(r) < 6 || r[len(r)-1] != "root" {
		t.Errorf("list row for %s: owner not root: %v", id1, r)
	}

	var js []map[string]any
	out = mustRT(t, "list", "--format", "json")
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("list --format json: %v: %s", err, out)
	}
	if len(js) != 2 {
		t.Fatalf("list json has %d entries, want 2: %s", len(js), out)
	}
	for _, e := range js {
		for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
			if _, ok := e[k]; !ok {
				t.Errorf("list json entry lacks %q: %v", k, e)
			}
		}
		if e["id"] == id2 && e["status"] != "created" {
			t.Errorf("json status of %s = %v", id2, e["status"])
		}
	}
	q := strings.Fields(mustRT(t, "list", "-q"))
	if len(q) != 2 || !contains(q, id1) || !contains(q, id2) {
		t.Errorf("list -q = %v, want %s %s", q, id1, id2)
	}
}

func TestListEmpty(t *testing.T) {
	out := mustRT(t, "list", "--format=json")
	if s := strings.TrimSpace(out); s != "null" && s != "[]" {
		t.Errorf("list json of an empty root = %q, want null or []", s)
	}
}

func TestCreateDuplicateID(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := createContainer(t, b)
	_, se, code := rt(t, "create", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatalf("second create with the same id succeeded")
	}
	mustContain(t, "duplicate create stderr", se, "container with given ID already exists")
	st := state(t, id)
	if st.Status != "created" || st.Pid != pid {
		t.Errorf("first container changed: status %q pid %d (was created/%d)", st.Status, st.Pid, pid)
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
}

func TestConcurrentCreateSameID(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id := newID(t)
	const n = 5
	var wg sync.WaitGroup
	codes := make([]int, n)
	errs := make([]string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := runRaw(ctxFor(t).root, nil, "create", "--bundle", b.Dir, id)
			codes[i], errs[i] = r.code, r.stderr
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 0 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent creates of one id succeeded, want exactly 1: codes %v errs %q", ok, n, codes, errs)
	}
	st := state(t, id)
	trackPid(t, st.Pid)
	if st.Status != "created" {
		t.Errorf("status %q after concurrent creates", st.Status)
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
}

func TestKillSignalForms(t *testing.T) {
	for _, sig := range []string{"KILL", "SIGKILL", "9"} {
		t.Run(sig, func(t *testing.T) {
			b := newBundle(t, withArgs("sleep", "1000"))
			id, pid := startContainer(t, b)
			mustRT(t, "kill", id, sig)
			if !waitGone(pid, 10*time.Second) {
				t.Fatalf("kill %s: pid %d still alive", sig, pid)
			}
			waitStatus(t, id, "stopped")
		})
	}
}

func TestKillDefaultIsTERM(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "trap 'echo got-term > /tmp/sig; exit 3' TERM; while :; do sleep 0.1; done"))
	id, pid := startContainer(t, b)
	// Wait until the trap is installed: the shell's SigCgt includes TERM.
	if !pollUntil(5*time.Second, func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		return err == nil && sigCaught(string(st), 15)
	}) {
		t.Fatal("shell never installed its TERM trap")
	}
	mustRT(t, "kill", id)
	waitStatus(t, id, "stopped")
	if got := readFile(t, filepath.Join(b.Rootfs, "tmp", "sig")); got != "got-term\n" {
		t.Errorf("trap output %q", got)
	}
}

func sigCaught(status string, sig uint) bool {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(sig-1)) != 0
		}
	}
	return false
}

func TestKillStoppedContainer(t *testing.T) {
	b := newBundle(t, withArgs("true"))
	id, _ := startContainer(t, b)
	waitStatus(t, id, "stopped")
	_, se, code := rt(t, "kill", id, "KILL")
	if code == 0 {
		t.Fatalf("kill of a stopped container succeeded")
	}
	mustContain(t, "kill stopped stderr", se, "container not running")
}

func TestKillCreatedContainer(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := createContainer(t, b)
	mustRT(t, "kill", id, "KILL")
	if !waitGone(pid, 10*time.Second) {
		t.Fatalf("init %d of created container survived kill KILL", pid)
	}
	waitStatus(t, id, "stopped")
	mustRT(t, "delete", id)
}

func TestDeleteRunningNeedsForce(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := startContainer(t, b)
	_, se, code := rt(t, "delete", id)
	if code == 0 {
		t.Fatalf("delete of a running container without --force succeeded")
	}
	mustContain(t, "delete running stderr", se, "is not stopped")
	if processGone(pid) {
		t.Fatalf("failed delete killed the container")
	}
	mustRT(t, "delete", "--force", id)
	if !waitGone(pid, 10*time.Second) {
		t.Errorf("delete --force left pid %d", pid)
	}
	if _, _, code := rt(t, "state", id); code == 0 {
		t.Errorf("state succeeds after delete --force")
	}
}

func TestDeleteMissing(t *testing.T) {
	_, se, code := rt(t, "delete", "no-such-container")
	if code == 0 {
		t.Fatal("delete of a missing container succeeded")
	}
	mustContain(t, "delete missing stderr", se, "container does not exist")
	// --force on a missing container is not an error for runc.
	if _, se, code := rt(t, "delete", "--force", "no-such-container"); code != 0 {
		t.Errorf("delete --force of a missing container: exit %d: %s", code, se)
	}
}

// TestDeleteCreatedWithoutForce: as runc (delete.go: a created container
// is killed and removed), delete without --force removes a container that
// was created but never started: its init is killed, its state and cgroup
// are gone. The OCI spec's lifecycle would refuse it; engines rely on
// runc's behaviour.
func TestDeleteCreatedWithoutForce(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id, pid := createContainer(t, b)
	if st := state(t, id); st.Status != "created" {
		t.Fatalf("status after create: %q", st.Status)
	}
	if _, se, code := rt(t, "delete", id); code != 0 {
		t.Fatalf("delete of a created container without --force: exit %d: %s", code, se)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("init %d of the deleted container still runs", pid)
	}
	assertNoState(t, id)
	assertNoCgroupNamed(t, id)
}

func TestPidFile(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	pidFile := filepath.Join(t.TempDir(), "pid")
	id, pid := createContainer(t, b, "--pid-file", pidFile)
	got := readFile(t, pidFile)
	if strings.TrimSpace(got) != strconv.Itoa(pid) {
		t.Errorf("pid file %q, state pid %d", got, pid)
	}
	if strings.Contains(got, "\n") {
		t.Errorf("pid file has a newline: %q", got)
	}
	mustRT(t, "start", id)
}

func TestPidFileRelative(t *testing.T) {
	// --pid-file is relative to the caller's cwd, not the bundle.
	b := newBundle(t, withArgs("sleep", "1000"))
	cwd, _ := os.Getwd()
	rel := "rt-test-pidfile-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { os.Remove(filepath.Join(cwd, rel)) })
	_, pid := createContainer(t, b, "--pid-file", rel)
	if got := readFile(t, filepath.Join(cwd, rel)); got != strconv.Itoa(pid) {
		t.Errorf("pid file %q, want %d", got, pid)
	}
}

func TestFlagForms(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	root := ctxFor(t).root
	id := newID(t)
	// Single-dash global flag and --flag=value forms.
	for _, args := range [][]string{
		{"-root", root, "create", "-bundle", b.Dir, id},
		{"--root=" + root, "start", id},
		{"-root=" + root, "state", id},
	} {
		r := runNoRoot(args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	waitStatus(t, id, "running")
	trackPid(t, state(t, id).Pid)
	// Flags after the positional argument.
	if _, se, code := rt(t, "delete", id, "--force"); code != 0 {
		t.Fatalf("delete ID --force: exit %d: %s", code, se)
	}
}

func TestStateMissing(t *testing.T) {
	_, se, code := rt(t, "state", "nope")
	if code == 0 {
		t.Fatal("state of a missing container succeeded")
	}
	mustContain(t, "state missing", se, "container does not exist")
}

// TestDeleteKillsLeftoversWithoutPidNamespace: without a pid namespace a
// container's background processes outlive its init; delete kills them
// and removes the cgroup.
func TestDeleteKillsLeftoversWithoutPidNamespace(t *testing.T) {
	cg := fmt.Sprintf("/rt-leftover-%d", os.Getpid())
	b := newBundle(t, withArgs("sh", "-c", "sleep 100 & echo $!"), func(s *specs.Spec) {
		setNamespaces(s, specs.MountNamespace, specs.UTSNamespace, specs.IPCNamespace)
		s.Linux.CgroupsPath = cg
	})
	id := newID(t)
	out := filepath.Join(t.TempDir(), "out")
	mustRTOut(t, out, "run", "--detach", "--bundle", b.Dir, id)
	child, err := strconv.Atoi(strings.TrimSpace(waitFile(t, out)))
	if err != nil {
		t.Fatalf("background pid: %v", err)
	}
	trackPid(t, child)
	waitStatus(t, id, "stopped")
	if processGone(child) {
		t.Fatal("the background sleep died with the init: the test needs it alive")
	}
	mustRT(t, "delete", id)
	if !waitGone(child, 5*time.Second) {
		t.Errorf("background process %d survived delete", child)
	}
	if _, err := os.Stat("/sys/fs/cgroup/pids" + cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after delete: %v", cg, err)
	}
}
