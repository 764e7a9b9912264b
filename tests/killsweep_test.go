package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestKillSweepCreate kills `rt create` with SIGKILL at moments spread
// over a whole create (from before it starts to after it would have
// finished) and checks, after each kill, that `rt state` either knows the
// container or says it does not exist, and that `rt delete --force` exits
// 0 and leaves no state dir, cgroup dir, mount or process. RT_KILLSWEEP_N
// sets the number of kill points (default 40).
func TestKillSweepCreate(t *testing.T) {
	sweepCreate(t, "rt-killsweep", nil, nil)
}

// TestKillSweepRunDetached is the sweep over `run --detach`, which
// releases the init before it writes the state that is no longer
// "creating": a kill in between must leave a container that delete
// --force removes.
func TestKillSweepRunDetached(t *testing.T) {
	sweep(t, []string{"run", "--detach"}, "rt-killsweep-run", nil, nil)
}

// TestKillSweepIntelRdt is the sweep of TestKillSweepCreate over a create
// with linux.intelRdt: the resctrl group is recorded before it is made,
// so no kill point leaves it behind delete --force. (Without resctrl, the
// recording is unit-tested: TestCreateRecordsResctrlBeforeMkdir and
// intelrdt's TestPlanThenCrash.)
func TestKillSweepIntelRdt(t *testing.T) {
	ctxFor(t)
	root := resctrlRoot(t)
	if root == "" {
		t.Skip("SKIP: no resctrl filesystem mounted (Intel RDT / AMD PQoS absent from this kernel or CPU): " +
			"linux.intelRdt cannot be created here")
	}
	sweepCreate(t, "rt-killsweep-rdt", func(s *specs.Spec) {
		s.Linux.IntelRdt = &specs.LinuxIntelRdt{EnableMonitoring: true}
	}, func(id string) bool {
		if _, err := os.Stat(filepath.Join(root, id)); err == nil {
			t.Errorf("%s: resctrl group %s left", id, filepath.Join(root, id))
			os.Remove(filepath.Join(root, id, "mon_groups", id))
			os.Remove(filepath.Join(root, id))
			return false
		}
		return true
	})
}

// resctrlRoot is where resctrl is mounted ("" if nowhere).
func resctrlRoot(t *testing.T) string {
	for _, l := range strings.Split(readFile(t, "/proc/self/mountinfo"), "\n") {
		if strings.Contains(l, " - resctrl ") {
			return strings.Fields(l)[4]
		}
	}
	return ""
}

// startSweep makes the test the subreaper of what the killed commands
// leave (their `rt init`, a pid namespace's init are re-parented to us, so
// that we can see every one of them) until it ends, and returns the number
// of kill points: RT_KILLSWEEP_N, or def.
func startSweep(t *testing.T, def int) int {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	if v, err := strconv.Atoi(os.Getenv("RT_KILLSWEEP_N")); err == nil && v > 1 {
		return v
	}
	return def
}

// killAfter runs rt with args and SIGKILLs it after delay; it reports
// whether rt finished (exit 0) before the kill.
func killAfter(t *testing.T, delay time.Duration, args ...string) bool {
	t.Helper()
	cmd := exec.Command(rtBinary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	return cmd.Wait() == nil
}

// sweepCreate SIGKILLs `rt create` at points spread over a whole create of
// a bundle (opt applied) in the cgroup cgPrefix-<pid>, and checks after
// each that delete --force removes everything (and extra, if set).
func sweepCreate(t *testing.T, cgPrefix string, opt bundleOpt, extra func(id string) bool) {
	sweep(t, []string{"create"}, cgPrefix, opt, extra)
}

// sweep is sweepCreate for the command verb (create, or run --detach).
func sweep(t *testing.T, verb []string, cgPrefix string, opt bundleOpt, extra func(id string) bool) {
	c := ctxFor(t)
	n := startSweep(t, 40)

	cgName := fmt.Sprintf("%s-%d", cgPrefix, os.Getpid())
	opts := []bundleOpt{withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = "/" + cgName }}
	if opt != nil {
		opts = append(opts, opt)
	}
	b := newBundle(t, opts...)
	if extra == nil {
		extra = func(string) bool { return true }
	}

	// How long a whole create takes here.
	id := newID(t)
	start := time.Now()
	mustRT(t, append(append([]string{}, verb...), "--bundle", b.Dir, id)...)
	full := time.Since(start)
	mustRT(t, "delete", "--force", id)
	checkNothingLeft(t, c, id, cgName, b)
	extra(id)
	t.Logf("a whole %s takes %v; %d kill points up to %v", verb[0], full, n, full*6/5)

	killedAt := map[string]int{}
	for i := 0; i < n; i++ {
		delay := full * 6 / 5 * time.Duration(i) / time.Duration(n-1)
		id := newID(t)
		outcome := "killed"
		if killAfter(t, delay, append(append([]string{"--root", c.root}, verb...), "--bundle", b.Dir, id)...) {
			outcome = "finished"
		}
		r := runRaw(c.root, nil, "state", id)
		switch {
		case r.code == 0:
			outcome += ", state known"
		case strings.Contains(r.stderr, "does not exist"):
			outcome += ", state: does not exist"
		default:
			t.Errorf("kill point %d (%v): state: exit %d: %s", i, delay, r.code, r.stderr)
		}
		killedAt[outcome]++
		if r := runRaw(c.root, nil, "delete", "--force", id); r.code != 0 {
			t.Errorf("kill point %d (%v, %s): delete --force: exit %d: %s", i, delay, outcome, r.code, r.stderr)
		}
		if left := !checkNothingLeft(t, c, id, cgName, b); !extra(id) || left {
			t.Errorf("kill point %d (%v, %s): left over (see above)", i, delay, outcome)
		}
	}
	t.Logf("outcomes: %v", killedAt)
}

// TestKillSweepStartDelete kills `rt start` at moments spread over a whole
// start, and `rt delete --force` over a whole delete of a running
// container, and checks after each kill that the container is still known
// (start: created or running) or gone, and that `rt delete --force` then
// exits 0 and leaves no state dir, cgroup dir, mount or process.
// RT_KILLSWEEP_N sets the number of kill points of each (default 20).
func TestKillSweepStartDelete(t *testing.T) {
	c := ctxFor(t)
	n := startSweep(t, 20)
	cgName := fmt.Sprintf("rt-killsweep-sd-%d", os.Getpid())
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = "/" + cgName })

	timeOf := func(verb string) time.Duration {
		id := newID(t)
		mustRT(t, "create", "--bundle", b.Dir, id)
		if verb == "delete" {
			mustRT(t, "start", id)
		}
		start := time.Now()
		if verb == "delete" {
			mustRT(t, "delete", "--force", id)
		} else {
			mustRT(t, "start", id)
		}
		d := time.Since(start)
		runRaw(c.root, nil, "delete", "--force", id)
		checkNothingLeft(t, c, id, cgName, b)
		return d
	}
	outcomes := map[string]int{}
	for _, verb := range []string{"start", "delete"} {
		full := timeOf(verb) // the shortest of three: no outlier
		for j := 0; j < 2; j++ {
			if d := timeOf(verb); d < full {
				full = d
			}
		}
		t.Logf("a whole %s takes %v; %d kill points up to %v", verb, full, n, full*6/5)
		for i := 0; i < n && !t.Failed(); i++ {
			delay := full * 6 / 5 * time.Duration(i) / time.Duration(n-1)
			id := newID(t)
			mustRT(t, "create", "--bundle", b.Dir, id)
			args := []string{"--root", c.root, "start", id}
			if verb == "delete" {
				mustRT(t, "start", id)
				args = []string{"--root", c.root, "delete", "--force", id}
			}
			outcome := verb + ", killed"
			if killAfter(t, delay, args...) {
				outcome = verb + ", finished"
			}
			r := runRaw(c.root, nil, "state", id)
			switch {
			case r.code == 0 && verb == "start" && !strings.Contains(r.stdout, `"created"`) && !strings.Contains(r.stdout, `"running"`):
				t.Errorf("kill point %d (%v, %s): state: %s", i, delay, outcome, r.stdout)
			case r.code == 0:
				outcome += ", state known"
			case strings.Contains(r.stderr, "does not exist"):
				outcome += ", state: does not exist"
			default:
				t.Errorf("kill point %d (%v, %s): state: exit %d: %s", i, delay, outcome, r.code, r.stderr)
			}
			outcomes[outcome]++
			if r := runRaw(c.root, nil, "delete", "--force", id); r.code != 0 {
				t.Errorf("kill point %d (%v, %s): delete --force: exit %d: %s", i, delay, outcome, r.code, r.stderr)
			}
			if !checkNothingLeft(t, c, id, cgName, b) {
				t.Errorf("kill point %d (%v, %s): left over (see above)", i, delay, outcome)
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// checkNothingLeft reports (and then cleans) what a container left: its
// state dir, its cgroup dirs, mounts under its bundle, and our children
// (the subreaper's orphans) still alive.
func checkNothingLeft(t *testing.T, c *rtCtx, id, cgName string, b *bundle) bool {
	t.Helper()
	ok := true
	if _, err := os.Lstat(filepath.Join(c.root, id)); err == nil {
		t.Errorf("%s: state dir left", id)
		os.RemoveAll(filepath.Join(c.root, id))
		ok = false
	}
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range ents {
		d := filepath.Join("/sys/fs/cgroup", e.Name(), cgName)
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s: cgroup dir %s left", id, d)
			killAndRemoveCgroup(d)
			ok = false
		}
	}
	if left := mountsUnder(b.Dir); len(left) > 0 {
		t.Errorf("%s: mounts left: %v", id, left)
		for i := len(left) - 1; i >= 0; i-- {
			syscall.Unmount(left[i], syscall.MNT_DETACH)
		}
		ok = false
	}
	// Orphans that are still alive. One that has exited is a zombie until
	// we reap it: reap every child that is gone.
	var alive []int
	pollUntil(5*time.Second, func() bool {
		for {
			var ws unix.WaitStatus
			if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
		alive = childrenOf(os.Getpid())
		return len(alive) == 0
	})
	if len(alive) > 0 {
		t.Errorf("%s: processes left: %v", id, alive)
		for _, p := range alive {
			syscall.Kill(p, syscall.SIGKILL)
		}
		ok = false
	}
	return ok
}

// childrenOf lists the live (non-zombie) children of pid.
func childrenOf(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+2:]))
		if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

func killAndRemoveCgroup(d string) {
	data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			syscall.Kill(pid, syscall.SIGKILL)
			waitGone(pid, 2*time.Second)
		}
	}
	os.Remove(d)
}

// TestKillSweepExec kills `rt exec` with SIGKILL at moments spread over a
// whole exec (detached and in the foreground, alternately) into a running
// container, then (detached, --ignore-paused) into the paused container,
// then detached with a terminal (--tty, --console-socket), and checks after each kill that no process is left outside
// the container's cgroup (the killed exec's `rt init` and what it forked
// are our orphans: the test is their subreaper), that the state dir holds
// what it held before, and that the container still runs and takes an
// exec; at the end `rt delete --force` leaves nothing. RT_KILLSWEEP_N
// sets the number of kill points (default 40).
func TestKillSweepExec(t *testing.T) {
	c := ctxFor(t)
	n := startSweep(t, 40)

	cgName := fmt.Sprintf("rt-killsweep-exec-%d", os.Getpid())
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = "/" + cgName })
	id := newID(t)
	mustRT(t, "run", "-d", "--bundle", b.Dir, id)
	stateDir := filepath.Join(c.root, id)
	before := dirListing(t, stateDir)
	rootBefore := dirListing(t, c.root)

	outcomes := map[string]int{}
	// sweep kills n execs (args(i): the exec's arguments and a name for
	// them) spread over the time a whole `exec -d` takes, and checks
	// after each kill; the container stays in status want.
	sweep := func(n int, args func(i int) ([]string, string), want string) {
		full := time.Duration(0)
		for i := 0; i < 3; i++ { // the shortest of three: no outlier
			a, _ := args(0)
			start := time.Now()
			mustRT(t, a...)
			if d := time.Since(start); full == 0 || d < full {
				full = d
			}
		}
		_, name := args(0)
		t.Logf("a whole %s takes %v; %d kill points up to %v", name, full, n, full*6/5)
		for i := 0; i < n && !t.Failed(); i++ {
			delay := full * 6 / 5 * time.Duration(i) / time.Duration(n-1)
			a, mode := args(i)
			outcome := mode + ", killed"
			if killAfter(t, delay, append([]string{"--root", c.root}, a...)...) {
				outcome = mode + ", finished"
			}
			outcomes[outcome]++
			where := fmt.Sprintf("kill point %d (%v, %s)", i, delay, outcome)
			if stray := strayProcesses(cgName, 5*time.Second); len(stray) > 0 {
				t.Errorf("%s: processes outside the container's cgroup: %v", where, stray)
			}
			if got := dirListing(t, stateDir); got != before {
				t.Errorf("%s: state dir holds %s, before the exec %s", where, got, before)
			}
			if got := dirListing(t, c.root); got != rootBefore {
				t.Errorf("%s: state root holds %s, before the exec %s", where, got, rootBefore)
			}
			if r := runRaw(c.root, nil, "state", id); r.code != 0 || !strings.Contains(r.stdout, `"`+want+`"`) {
				t.Errorf("%s: state: exit %d (want %s): %s%s", where, r.code, want, r.stdout, r.stderr)
			}
		}
	}
	// Detached and in the foreground, alternately, into the running
	// container.
	sweep(n, func(i int) ([]string, string) {
		if i%2 == 1 {
			return []string{"exec", id, "sleep", "1000"}, "exec"
		}
		return []string{"exec", "-d", id, "sleep", "1000"}, "exec -d"
	}, "running")
	// Into the paused container (--ignore-paused): the process joins the
	// frozen cgroup last, at its own request; a kill before that must not
	// leave it outside.
	mustRT(t, "pause", id)
	sweep(n/2, func(int) ([]string, string) {
		return []string{"exec", "-d", "--ignore-paused", id, "sleep", "1000"}, "exec -d --ignore-paused"
	}, "paused")
	mustRT(t, "resume", id)
	// With a terminal: the C stage sends the pty master over
	// --console-socket (a sink takes and closes it).
	sock := consoleSink(t)
	sweep(n/2, func(int) ([]string, string) {
		return []string{"exec", "-d", "--tty", "--console-socket", sock, id, "sleep", "1000"}, "exec -d --tty"
	}, "running")
	t.Logf("outcomes: %v", outcomes)
	if r := runRaw(c.root, nil, "exec", id, "true"); r.code != 0 {
		t.Errorf("exec after the sweep: exit %d: %s", r.code, r.stderr)
	}
	// The container's init and the processes exec'd into it are our
	// children (orphans of rt run and rt exec): reap them while delete
	// kills them, as an engine's shim would, or the pid namespace's init
	// cannot finish exiting (it waits until its namespace is reaped).
	stop := reapWhile(childrenOf(os.Getpid()))
	r := runRaw(c.root, nil, "delete", "--force", id)
	stop()
	if r.code != 0 {
		t.Errorf("delete --force after the sweep: exit %d: %s", r.code, r.stderr)
	}
	checkNothingLeft(t, c, id, cgName, b)
}

// reapWhile reaps the children pids as they exit until the returned stop
// is called.
func reapWhile(pids []int) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			for _, p := range pids {
				var ws unix.WaitStatus
				unix.Wait4(p, &ws, unix.WNOHANG, nil)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// consoleSink listens on a unix socket for --console-socket and keeps
// every pty master it is sent (a process whose master is closed gets EIO
// on its terminal) until the end of the test.
func consoleSink(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var masters []int
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, fd := range masters {
			unix.Close(fd)
		}
		mu.Unlock()
	})
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return // closed at the end of the test
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				oob := make([]byte, unix.CmsgSpace(4*4))
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
				if err != nil {
					return
				}
				msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
				for _, m := range msgs {
					fds, _ := unix.ParseUnixRights(&m)
					mu.Lock()
					masters = append(masters, fds...)
					mu.Unlock()
				}
			}()
		}
	}()
	return path
}

// dirListing is the sorted names in dir, as one string.
func dirListing(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return "[" + strings.Join(names, " ") + "]"
}

// strayProcesses waits (up to d, reaping our exited children) until every
// live descendant of the test is in the cgroup named cgName, and returns
// those that are not ("pid comm cgroup-line").
func strayProcesses(cgName string, d time.Duration) []string {
	var stray []string
	pollUntil(d, func() bool {
		for {
			var ws unix.WaitStatus
			if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
		stray = nil
		for _, p := range descendantsOf(os.Getpid()) {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p))
			if err != nil {
				continue // gone meanwhile
			}
			// In the container's cgroup in every hierarchy (v1 and the
			// hybrid host's cgroup2 alike).
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if !strings.HasSuffix(line, "/"+cgName) && !strings.Contains(line, "/"+cgName+"/") {
					comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
					stray = append(stray, fmt.Sprintf("%d %s %s", p, strings.TrimSpace(string(comm)), line))
					break
				}
			}
		}
		return len(stray) == 0
	})
	return stray
}

// descendantsOf lists the live descendants of pid.
func descendantsOf(pid int) []int {
	var out []int
	for _, c := range childrenOf(pid) {
		out = append(out, c)
		out = append(out, descendantsOf(c)...)
	}
	return out
}
