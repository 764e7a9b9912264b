package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sleeper starts a long-running container and returns its id and pid.
func sleeper(t *testing.T, opts ...bundleOpt) (*bundle, string, int) {
	t.Helper()
	b := newBundle(t, append([]bundleOpt{withArgs("sleep", "1000")}, opts...)...)
	id, pid := startContainer(t, b)
	return b, id, pid
}

func TestExecJoinsEveryNamespace(t *testing.T) {
	_, id, pid := sleeper(t, func(s *specs.Spec) {
		setNamespaces(s, specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace,
			specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace)
	})
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	mustRT(t, "exec", "--detach", "--pid-file", pidFile, id, "sleep", "100")
	epid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	trackPid(t, epid)
	for _, ns := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		if a, b := nsInode(t, pid, ns), nsInode(t, epid, ns); a != b {
			t.Errorf("exec process %s namespace %s, container init has %s", ns, b, a)
		}
	}
	// Same cgroups as the init, in every hierarchy.
	ic, ec := cgroupDirsOf(pid), cgroupDirsOf(epid)
	for k, v := range ic {
		if ec[k] != v {
			t.Errorf("exec process cgroup %s = %q, init has %q", k, ec[k], v)
		}
	}
	// Inside the pid namespace it is not pid 1, and it sees the init.
	out := mustRT(t, "exec", id, "sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] == "1" || !strings.HasPrefix(lines[1], "sleep 1000") {
		t.Errorf("exec inside pid namespace printed %q", out)
	}
}

func TestExecUserNamespace(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	// The container's root (host uid 100000) must be able to reach its
	// rootfs: test temp dirs are 0700.
	for d := b.Dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	id, pid := startContainer(t, b)
	out := mustRT(t, "exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user")
	f := strings.Fields(out)
	if len(f) < 5 || f[0] != "0" || f[1] != "0" || f[2] != "100000" || f[3] != "65536" {
		t.Fatalf("exec in user namespace printed %q", out)
	}
	if want := nsInode(t, pid, "user"); f[4] != want {
		t.Errorf("exec user namespace %s, container's %s", f[4], want)
	}
}

func TestExecExitStatusAndFlags(t *testing.T) {
	_, id, _ := sleeper(t)
	if _, _, code := rt(t, "exec", id, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec exit 7: got %d", code)
	}
	out := mustRT(t, "exec", "--user", "1000:1001", "--additional-gids", "5", "--additional-gids", "6",
		"--cwd", "/tmp", "--env", "FOO=bar", id, "sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO")
	if got := strings.Fields(out); strings.Join(got, " ") != "1000 1001 1001 5 6 /tmp bar" {
		t.Errorf("exec with --user/--additional-gids/--cwd/--env printed %q", out)
	}
	// Single-dash long flags parse as with runc.
	out = mustRT(t, "exec", "-user", "2000", id, "id", "-u")
	if strings.TrimSpace(out) != "2000" {
		t.Errorf("exec -user 2000 printed %q", out)
	}
	// --no-new-privs and --cap land in /proc/self/status.
	out = mustRT(t, "exec", "--no-new-privs", "--cap", "CAP_SYS_ADMIN", id, "cat", "/proc/self/status")
	st := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs = %q, want 1", st["NoNewPrivs"])
	}
	eff, _ := strconv.ParseUint(st["CapEff"], 16, 64)
	if eff&(1<<unix.CAP_SYS_ADMIN) == 0 {
		t.Errorf("CapEff %s lacks CAP_SYS_ADMIN after --cap", st["CapEff"])
	}
	if st["CapInh"] != "0000000000000000" {
		t.Errorf("CapInh = %s, want 0 (CVE-2022-29162)", st["CapInh"])
	}
	// A numeric user is never looked up in the container's /etc/passwd.
	if _, se, code := rt(t, "exec", "--user", "root", id, "true"); code == 0 || !strings.Contains(se, "uid must be a number") {
		t.Errorf("exec --user root: exit %d, stderr %q", code, se)
	}
}

func TestExecProcessJSON(t *testing.T) {
	_, id, _ := sleeper(t)
	p := specs.Process{Args: []string{"sh", "-c", "echo $X; pwd; id -u"}, Env: []string{"X=from-json", "PATH=/bin"}, Cwd: "/etc", User: specs.User{UID: 33, GID: 33}}
	data, _ := json.Marshal(p)
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRT(t, "exec", "-p", path, id)
	if got := strings.Fields(out); strings.Join(got, " ") != "from-json /etc 33" {
		t.Errorf("exec -p printed %q", out)
	}
}

func TestExecNoFdLeak(t *testing.T) {
	_, id, _ := sleeper(t)
	extra, err := os.Open("/etc/hostname") // not close-on-exec in the runtime: must still not leak
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	out := mustRT(t, "exec", id, "ls", "/proc/self/fd")
	// ls holds one more fd for the directory it reads.
	if got := strings.Join(strings.Fields(out), " "); got != "0 1 2 3" {
		t.Errorf("fds in exec process: %q, want 0 1 2 (+ ls's own 3)", got)
	}
}

func TestExecStoppedAndMissing(t *testing.T) {
	b := newBundle(t, withArgs("true"))
	id, pid := startContainer(t, b)
	waitGone(pid, 5*time.Second)
	waitStatus(t, id, "stopped")
	if _, se, code := rt(t, "exec", id, "true"); code == 0 || !strings.Contains(se, "stopped") {
		t.Errorf("exec into stopped container: exit %d, stderr %q", code, se)
	}
	if _, se, code := rt(t, "exec", "no-such-container", "true"); code == 0 || !strings.Contains(se, "container does not exist") {
		t.Errorf("exec into missing container: exit %d, stderr %q", code, se)
	}
	_, id2, _ := sleeper(t)
	if _, se, code := rt(t, "exec", id2, "/no/such/program"); code == 0 || !strings.Contains(se, "no such file or directory") {
		t.Errorf("exec of a missing program: exit %d, stderr %q", code, se)
	}
}

func TestExecTTYConsoleSocket(t *testing.T) {
	_, id, _ := sleeper(t)
	recv := newConsoleReceiver(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "exec", "--tty", "--detach", "--console-socket", recv.path, "--pid-file", pidFile, id, "sh", "-c", "tty; [ -t 0 ] && echo isatty")
	master := recv.wait(t)
	epid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	var out strings.Builder
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	waitGone(epid, 5*time.Second)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		master.Close()
		<-done
	}
	got := strings.ReplaceAll(out.String(), "\r", "")
	if !strings.Contains(got, "/dev/pts/") || !strings.Contains(got, "isatty") {
		t.Errorf("exec --tty printed %q", got)
	}
}

func TestKillAll(t *testing.T) {
	_, id, pid := sleeper(t, func(s *specs.Spec) {
		// No pid namespace: killing the init alone would leave the others.
		setNamespaces(s, specs.MountNamespace, specs.UTSNamespace, specs.IPCNamespace)
		s.Linux.CgroupsPath = fmt.Sprintf("/rt-killall-%d", os.Getpid())
	})
	mustRT(t, "exec", "--detach", id, "sleep", "999")
	mustRT(t, "exec", "--detach", id, "sleep", "998")
	procs := readFile(t, fmt.Sprintf("/sys/fs/cgroup/pids/rt-killall-%d/cgroup.procs", os.Getpid()))
	pids := strings.Fields(procs)
	if len(pids) < 3 {
		t.Fatalf("cgroup.procs %q: want the init and two exec'd processes", procs)
	}
	mustRT(t, "kill", "--all", id, "KILL")
	for _, p := range pids {
		n, _ := strconv.Atoi(p)
		if !waitGone(n, 5*time.Second) {
			t.Errorf("process %d survived kill --all", n)
		}
	}
	_ = pid
}

func TestExecPausedContainer(t *testing.T) {
	_, id, _ := sleeper(t)
	mustRT(t, "pause", id)
	if _, se, code := rt(t, "exec", id, "true"); code == 0 || !strings.Contains(se, "paused") {
		t.Errorf("exec into a paused container: exit %d, stderr %q", code, se)
	}
	mustRT(t, "resume", id)
	mustRT(t, "exec", id, "true")
}

// TestExecIgnorePaused: exec --ignore-paused into a paused container
// returns at once; the process runs only when the container resumes.
func TestExecIgnorePaused(t *testing.T) {
	_, id, _ := sleeper(t)
	mustRT(t, "pause", id)
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "exec", "--ignore-paused", "--detach", "--pid-file", pidFile, id, "sh", "-c", "echo ran > /dev/shm/ran")
	epid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	trackPid(t, epid)
	if processGone(epid) {
		t.Fatalf("exec'd process %d is gone while the container is paused", epid)
	}
	mustRT(t, "resume", id)
	waitGone(epid, 5*time.Second)
	if out := mustRT(t, "exec", id, "cat", "/dev/shm/ran"); strings.TrimSpace(out) != "ran" {
		t.Errorf("after resume the exec'd process did not run: %q", out)
	}
}

// TestExecSubCgroup: exec --cgroup [controller:]path puts the process in
// an existing sub-cgroup of the container's cgroup.
func TestExecSubCgroup(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err != nil {
		t.Skip("needs the cgroup v1 pids controller at /sys/fs/cgroup/pids")
	}
	cg := fmt.Sprintf("/rt-subcg-%d", os.Getpid())
	_, id, _ := sleeper(t, func(s *specs.Spec) { s.Linux.CgroupsPath = cg })
	sub := "/sys/fs/cgroup/pids" + cg + "/sub"
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "exec", "--detach", "--pid-file", pidFile, "--cgroup", "pids:sub", id, "sleep", "100")
	epid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	trackPid(t, epid)
	if procs := readFile(t, sub+"/cgroup.procs"); !strings.Contains(procs, strconv.Itoa(epid)) {
		t.Errorf("%s/cgroup.procs = %q, want the exec'd %d", sub, procs, epid)
	}
	if _, se, code := rt(t, "exec", "--cgroup", "../escape", id, "true"); code == 0 || !strings.Contains(se, "relative path inside") {
		t.Errorf("exec --cgroup ../escape: exit %d, %q", code, se)
	}
	mustRT(t, "kill", "--all", id, "KILL")
	waitGone(epid, 5*time.Second)
}

// TestExecJoinsEveryCgroup: the exec'd process is in each of the
// container's cgroups (on cgroup v1 the C stage moves itself there
// through each hierarchy's `tasks` file; a hybrid host's cgroup2
// hierarchy it is born in), whatever the path of the exec was.
func TestExecJoinsEveryCgroup(t *testing.T) {
	cg := fmt.Sprintf("/rt-execcg-%d", os.Getpid())
	_, id, pid := sleeper(t, func(s *specs.Spec) { s.Linux.CgroupsPath = cg })
	pidFile := filepath.Join(t.TempDir(), "pid")
	mustRT(t, "exec", "--detach", "--pid-file", pidFile, id, "sleep", "100")
	epid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	trackPid(t, epid)
	want, got := readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid)), readFile(t, fmt.Sprintf("/proc/%d/cgroup", epid))
	if got != want || !strings.Contains(got, cg) {
		t.Errorf("exec'd process's cgroups:\n%s\nthe container init's:\n%s", got, want)
	}
	// The foreground path (rt waits, and forwards the status) too.
	if out, _, code := rt(t, "exec", id, "cat", "/proc/self/cgroup"); code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != len(strings.Split(strings.TrimSpace(want), "\n")) {
		t.Errorf("exec cat /proc/self/cgroup: exit %d, %q", code, out)
	}
	mustRT(t, "kill", "--all", id, "KILL")
	waitGone(epid, 5*time.Second)
}

// TestExecMissingSubCgroupFails: --cgroup naming a sub-cgroup that does
// not exist fails (as runc: it is not made, without the container's
// limits), names the file, and leaves no process in the container.
func TestExecMissingSubCgroupFails(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err != nil {
		t.Skip("needs the cgroup v1 pids controller at /sys/fs/cgroup/pids")
	}
	cg := fmt.Sprintf("/rt-nosubcg-%d", os.Getpid())
	_, id, pid := sleeper(t, func(s *specs.Spec) { s.Linux.CgroupsPath = cg })
	_, se, code := rt(t, "exec", "--cgroup", "pids:nosuch", id, "true")
	if code != 255 || !strings.Contains(se, "nosuch") {
		t.Errorf("exec --cgroup pids:nosuch: exit %d, %q; want 255 naming the sub-cgroup", code, se)
	}
	if _, err := os.Stat("/sys/fs/cgroup/pids" + cg + "/nosuch"); err == nil {
		t.Errorf("the missing sub-cgroup was made")
	}
	if procs := strings.Fields(readFile(t, "/sys/fs/cgroup/pids"+cg+"/cgroup.procs")); len(procs) != 1 || procs[0] != strconv.Itoa(pid) {
		t.Errorf("container's cgroup.procs = %v, want only the init %d", procs, pid)
	}
}
