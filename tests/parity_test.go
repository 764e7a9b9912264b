package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// freezerDir makes /sys/fs/cgroup/freezer<rel> (cgroup v1) for the test
// and removes it (thawed) at cleanup.
func freezerDir(t *testing.T, rel string) string {
	t.Helper()
	base := "/sys/fs/cgroup/freezer"
	if _, err := os.Stat(filepath.Join(base, "freezer.state")); err == nil || !isDir(base) {
		t.Skip("no cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer (kernel CONFIG_CGROUP_FREEZER)")
	}
	dir := filepath.Join(base, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for d := dir; d != base; d = filepath.Dir(d) {
			os.WriteFile(filepath.Join(d, "freezer.state"), []byte("THAWED"), 0)
		}
		for d := dir; d != base; d = filepath.Dir(d) {
			os.Remove(d)
		}
	})
	return dir
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// TestCreateRefusesFrozenCgroup: a container whose cgroup exists and is
// frozen is refused with runc's error instead of hanging (the init would
// freeze there); the cgroup, not the container's, is left as it was.
func TestCreateRefusesFrozenCgroup(t *testing.T) {
	rel := fmt.Sprintf("/rt-frozen-%d-%d", os.Getpid(), idCounter.Add(1))
	dir := freezerDir(t, rel)
	if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	for _, verb := range [][]string{{"run", "-d"}, {"create"}} {
		id := newID(t)
		args := append(append([]string{}, verb...), "--bundle", b.Dir, id)
		_, se, code := rt(t, args...)
		if code == 0 {
			t.Fatalf("%v in a frozen cgroup: exit 0", verb)
		}
		mustContain(t, strings.Join(verb, " ")+" stderr", se, "container's cgroup unexpectedly frozen")
		assertNoState(t, id)
		if !isDir(dir) {
			t.Fatalf("%v removed the pre-existing cgroup %s", verb, dir)
		}
	}
}

// TestCreateFrozenParentBounded: a cgroup frozen through its parent (so
// the container's own cgroup does not exist yet) does not make create wait
// for ever: it fails naming the freeze, and leaves nothing behind.
func TestCreateFrozenParentBounded(t *testing.T) {
	parent := fmt.Sprintf("/rt-frozenp-%d-%d", os.Getpid(), idCounter.Add(1))
	pdir := freezerDir(t, parent)
	if err := os.WriteFile(filepath.Join(pdir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		t.Fatal(err)
	}
	rel := parent + "/ct"
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	id := newID(t)
	_, se, code := rt(t, "run", "-d", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("run -d below a frozen cgroup: exit 0")
	}
	mustContain(t, "stderr", se, "container's cgroup unexpectedly frozen")
	assertNoState(t, id)
}

// TestCreateFrozenDuringCreate: the container's cgroup frozen while create
// waits on its init (a createContainer hook freezes it) ends the wait with
// an error naming the freeze; delete --force finds nothing left.
func TestCreateFrozenDuringCreate(t *testing.T) {
	rel := fmt.Sprintf("/rt-freezehook-%d-%d", os.Getpid(), idCounter.Add(1))
	dir := freezerDir(t, rel)
	os.Remove(dir) // the container makes it
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = rel
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{
			Path: "/bin/sh",
			Args: []string{"sh", "-c", "echo FROZEN > " + dir + "/freezer.state"},
		}}}
	})
	id := newID(t)
	start := time.Now()
	_, se, code := rt(t, "run", "-d", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("run -d with its cgroup frozen during create: exit 0")
	}
	mustContain(t, "stderr", se, "container's cgroup unexpectedly frozen")
	t.Logf("failed after %v", time.Since(start))
	assertNoState(t, id)
	if isDir(dir) {
		t.Errorf("cgroup %s left after the failed create", dir)
	}
}

// TestCreateRefusesNonEmptyCgroup: as runc 1.2+, a container is not put in
// a cgroup that already has processes ("container's cgroup is not empty").
func TestCreateRefusesNonEmptyCgroup(t *testing.T) {
	rel := fmt.Sprintf("/rt-busy-%d-%d", os.Getpid(), idCounter.Add(1))
	b1 := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	id1, pid := startContainer(t, b1)
	_ = id1
	b2 := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	id2 := newID(t)
	_, se, code := rt(t, "run", "-d", "--bundle", b2.Dir, id2)
	if code == 0 {
		t.Fatal("run -d in a cgroup with processes: exit 0")
	}
	mustContain(t, "stderr", se, "container's cgroup is not empty: 1 process(es) found")
	assertNoState(t, id2)
	if processGone(pid) {
		t.Fatal("the refused create killed the first container")
	}
}

// TestNoNamespacesLeavesNoHostMounts: a config with no namespaces at all
// makes its mounts in the host's mount namespace; the rootfs is a mount
// point of its own (bound onto itself, as runc does), so that delete (and a
// caller's `umount -R rootfs`) removes every one of them. The host's mount
// table is read for mounts under the bundle (other tests mount and unmount
// elsewhere at the same time).
func TestNoNamespacesLeavesNoHostMounts(t *testing.T) {
	noNS := func(s *specs.Spec) {
		s.Linux.Namespaces = nil
		s.Hostname = ""
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
	}
	check := func(when, dir string) {
		t.Helper()
		if left := mountsUnder(dir); len(left) != 0 {
			t.Errorf("%s: %d host mounts left under %s: %v", when, len(left), dir, left)
		}
	}

	// Foreground run: rt removes the container when it exits.
	b := newBundle(t, withArgs("true"), noNS)
	if _, se, code := rt(t, "run", "--bundle", b.Dir, newID(t)); code != 0 {
		t.Fatalf("run: exit %d: %s", code, se)
	}
	check("after run", b.Dir)

	// Detached, then delete --force while it runs.
	b2 := newBundle(t, withArgs("sleep", "1000"), noNS)
	id2, _ := startContainer(t, b2)
	if n := len(mountsUnder(b2.Dir)); n < 5 {
		t.Fatalf("while it runs: %d host mounts under the bundle: the container's mounts are not in the host's namespace?", n)
	}
	mustRT(t, "delete", "--force", id2)
	check("after run -d + delete --force", b2.Dir)

	// A caller's `umount -R rootfs` removes them all too (as with runc).
	b3 := newBundle(t, withArgs("sleep", "1000"), noNS)
	id3, _ := startContainer(t, b3)
	if out, err := exec.Command("umount", "-R", "-l", b3.Rootfs).CombinedOutput(); err != nil {
		t.Fatalf("umount -R %s: %v: %s", b3.Rootfs, err, out)
	}
	check("after umount -R rootfs", b3.Dir)
	mustRT(t, "delete", "--force", id3)
	check("after umount -R rootfs + delete --force", b3.Dir)
}

// TestKillAllStoppedContainer: as runc, `kill --all` of a stopped container
// whose cgroup is empty exits 0 (containerd's shim calls it after every init
// exit); a plain kill still says the container is not running.
func TestKillAllStoppedContainer(t *testing.T) {
	b := newBundle(t, withArgs("true"))
	id, pid := startContainer(t, b)
	waitGone(pid, 5*time.Second)
	waitStatus(t, id, "stopped")
	if _, se, code := rt(t, "kill", "--all", id, "KILL"); code != 0 {
		t.Errorf("kill --all of a stopped container: exit %d: %s", code, se)
	}
	if _, se, code := rt(t, "kill", id, "KILL"); code == 0 || !strings.Contains(se, "not running") {
		t.Errorf("kill of a stopped container (own pid namespace): exit %d, %q; want an error \"container not running\"", code, se)
	}
}

// TestKillWithoutPidNamespace: without a pid namespace of its own, SIGKILL
// (with or without --all) reaches every process of the container's cgroup,
// as runc does; a stopped container then is not an error either.
func TestKillWithoutPidNamespace(t *testing.T) {
	for _, all := range []bool{false, true} {
		_, id, pid := sleeper(t, func(s *specs.Spec) {
			setNamespaces(s, specs.MountNamespace, specs.UTSNamespace, specs.IPCNamespace)
		})
		pidFile := filepath.Join(t.TempDir(), "pid")
		mustRT(t, "exec", "--detach", "--pid-file", pidFile, id, "sleep", "999")
		epid := 0
		fmt.Sscan(readFile(t, pidFile), &epid)
		trackPid(t, epid)
		args := []string{"kill", id, "KILL"}
		if all {
			args = []string{"kill", "--all", id, "KILL"}
		}
		mustRT(t, args...)
		for _, p := range []int{pid, epid} {
			if !waitGone(p, 5*time.Second) {
				t.Errorf("%v: process %d survived", args, p)
			}
		}
		waitStatus(t, id, "stopped")
		if _, se, code := rt(t, args...); code != 0 {
			t.Errorf("%v again, stopped with an empty cgroup: exit %d: %s", args, code, se)
		}
	}
}

// TestExecFailureExits255: a failed exec (no such executable, no such
// container) exits 255 with "exec failed: ...", as runc; the process's own
// exit status is passed through unchanged.
func TestExecFailureExits255(t *testing.T) {
	_, id, _ := sleeper(t)
	for _, args := range [][]string{
		{"exec", id, "/no/such/binary"},
		{"exec", "no-such-container-" + id, "true"},
	} {
		_, se, code := rt(t, args...)
		if code != 255 {
			t.Errorf("%v: exit %d, want 255 (stderr %q)", args, code, se)
		}
		mustContain(t, fmt.Sprint(args), se, "exec failed: ")
	}
	if _, _, code := rt(t, "exec", id, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec of a process exiting 7: exit %d", code)
	}
}

// TestPidsLimitZeroWritesOne: pids.limit 0 is written to pids.max as 1, as
// runc 1.5 does with both cgroup drivers (systemd cannot express 0).
func TestPidsLimitZeroWritesOne(t *testing.T) {
	requireCgroupV1(t, "pids")
	path := fmt.Sprintf("/rt-pids0-%d-%d", os.Getpid(), idCounter.Add(1))
	zero := int64(0)
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &zero}}
	})
	id, _ := startContainer(t, b)
	if got := cgFile(t, "pids", path, "pids.max"); got != "1" {
		t.Errorf("pids.max = %q, want 1", got)
	}
	mustRT(t, "update", "--pids-limit", "5", id)
	mustRT(t, "update", "--pids-limit", "0", id)
	if got := cgFile(t, "pids", path, "pids.max"); got != "1" {
		t.Errorf("after update --pids-limit 0: pids.max = %q, want 1", got)
	}
}

// TestCPURealtimeBothLowered: lowering cpu.rt_period_us below the current
// cpu.rt_runtime_us together with the runtime works (the kernel refuses
// the period first; runc then writes the runtime and the period again).
func TestCPURealtimeBothLowered(t *testing.T) {
	requireCgroupV1(t, "cpu")
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cpu", "cpu.rt_runtime_us")); err != nil {
		t.Skip("no cpu.rt_runtime_us (kernel without CONFIG_RT_GROUP_SCHED)")
	}
	path := fmt.Sprintf("/rt-rt-%d-%d", os.Getpid(), idCounter.Add(1))
	period, runtime := uint64(100000), int64(50000)
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: &period, RealtimeRuntime: &runtime}}
	})
	id, _ := startContainer(t, b)
	if p, r := cgFile(t, "cpu", path, "cpu.rt_period_us"), cgFile(t, "cpu", path, "cpu.rt_runtime_us"); p != "100000" || r != "50000" {
		t.Fatalf("after create: period %s runtime %s", p, r)
	}
	mustRT(t, "update", "--cpu-rt-period", "10000", "--cpu-rt-runtime", "5000", id)
	if p, r := cgFile(t, "cpu", path, "cpu.rt_period_us"), cgFile(t, "cpu", path, "cpu.rt_runtime_us"); p != "10000" || r != "5000" {
		t.Errorf("after lowering both: period %s runtime %s, want 10000 and 5000", p, r)
	}
	mustRT(t, "update", "--cpu-rt-period", "200000", "--cpu-rt-runtime", "150000", id)
	if p, r := cgFile(t, "cpu", path, "cpu.rt_period_us"), cgFile(t, "cpu", path, "cpu.rt_runtime_us"); p != "200000" || r != "150000" {
		t.Errorf("after raising both: period %s runtime %s, want 200000 and 150000", p, r)
	}
}

// TestTerminalLikeRunc: the container's pty (rt run with terminal true)
// has ONLCR cleared, so that output lines end in "\n", not "\r\n"; and its
// slave belongs to the process's uid (runc chowns the stdio it hands over).
func TestTerminalLikeRunc(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", `stat -L -c 'owner=%u' /proc/self/fd/0; printf 'a\nb\n'`), func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	out := mustRunIn(t, b)
	if strings.Contains(out, "\r") {
		t.Errorf("output has \\r (ONLCR left on): %q", out)
	}
	mustContain(t, "output", out, "owner=1000\na\nb\n")
}

// TestHomeFromPasswd: without HOME in process.env, the process gets the
// home directory of its uid in the container's /etc/passwd, "/" when the
// uid has none, as runc does (run and exec); a HOME in the config wins.
func TestHomeFromPasswd(t *testing.T) {
	withPasswd := func(b *bundle) {
		t.Helper()
		os.MkdirAll(filepath.Join(b.Rootfs, "etc"), 0o755)
		data := "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
		if err := os.WriteFile(filepath.Join(b.Rootfs, "etc/passwd"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		uid  uint32
		env  string
		want string
	}{{0, "", "/root"}, {1000, "", "/home/user"}, {4242, "", "/"}, {1000, "HOME=/config", "/config"}} {
		b := newBundle(t, withArgs("sh", "-c", `echo "home=$HOME"`), func(s *specs.Spec) {
			s.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			if tc.env != "" {
				s.Process.Env = append(s.Process.Env, tc.env)
			}
		})
		withPasswd(b)
		out := mustRunIn(t, b)
		if strings.TrimSpace(out) != "home="+tc.want {
			t.Errorf("run as uid %d, env %q: %q, want home=%s", tc.uid, tc.env, strings.TrimSpace(out), tc.want)
		}
	}
	b := newBundle(t, withArgs("sleep", "1000"))
	withPasswd(b)
	id, _ := startContainer(t, b)
	if out := mustRT(t, "exec", "--user", "1000:1000", id, "sh", "-c", `echo "home=$HOME"`); strings.TrimSpace(out) != "home=/home/user" {
		t.Errorf("exec as uid 1000: %q, want home=/home/user", strings.TrimSpace(out))
	}
}

// TestHooksInContainerLikeRunc: createContainer hooks run from the rootfs
// (their cwd) and startContainer hooks as the process will run: its user,
// capabilities and cwd, under its seccomp filter (loaded before them without
// no_new_privs); both, without an env of their own, get process.env.
func TestHooksInContainerLikeRunc(t *testing.T) {
	logDir := t.TempDir()
	if err := os.Chmod(logDir, 0o777); err != nil {
		t.Fatal(err)
	}
	report := `echo "pwd=$(pwd) var=$HOOKVAR uid=$(id -u) $(grep -E '^(Seccomp|CapEff):' /proc/self/status | tr -s '\t' ' ' | tr '\n' ' ')"`
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "HOOKVAR=from-process")
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Cwd = "/tmp"
		s.Process.NoNewPrivileges = false
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"swapoff"}, Action: specs.ActErrno}},
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hooklog", Type: "bind", Source: logDir, Options: []string{"rbind", "rw"}})
		s.Hooks = &specs.Hooks{
			CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", report + " > " + logDir + "/createContainer"}}},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", report + " > /hooklog/startContainer"}}},
		}
	})
	mustRunIn(t, b)
	rootfs, _ := filepath.EvalSymlinks(b.Rootfs)
	cc := readFile(t, filepath.Join(logDir, "createContainer"))
	mustContain(t, "createContainer hook", cc, "pwd="+rootfs+" var=from-process uid=0 ")
	sc := readFile(t, filepath.Join(logDir, "startContainer"))
	mustContain(t, "startContainer hook", sc, "pwd=/tmp var=from-process uid=1000 ")
	mustContain(t, "startContainer hook", sc, "Seccomp: 2")
	mustContain(t, "startContainer hook", sc, "CapEff: 0000000000000000")
}

// TestCapabilitiesLikeRunc: an unknown capability name is ignored with
// runc's warning (config and exec --cap); exec --cap adds to the ambient
// set when the process has an inheritable set, as runc.
func TestCapabilitiesLikeRunc(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_NOPE", "CAP_KILL")
		s.Process.Capabilities.Permitted = append(s.Process.Capabilities.Permitted, "CAP_KILL")
		s.Process.Capabilities.Inheritable = []string{"CAP_KILL"}
	})
	id := newID(t)
	_, se, code := rt(t, "run", "-d", "--bundle", b.Dir, id)
	if code != 0 {
		t.Fatalf("run with an unknown capability: exit %d: %s", code, se)
	}
	mustContain(t, "run stderr", se, "ignoring unknown or unavailable capabilities: [CAP_NOPE]")
	trackPid(t, state(t, id).Pid)
	out, se, code := rt(t, "exec", "--user", "1000:1000", "--cap", "CAP_KILL", "--cap", "CAP_NOPE", id, "grep", "CapAmb", "/proc/self/status")
	if code != 0 {
		t.Fatalf("exec --cap: exit %d: %s", code, se)
	}
	mustContain(t, "exec stderr", se, "ignoring unknown or unavailable capabilities: [CAP_NOPE]")
	if want := fmt.Sprintf("%016x", 1<<5); !strings.Contains(out, want) {
		t.Errorf("exec --cap CAP_KILL: %q, want CapAmb %s (CAP_KILL ambient)", strings.TrimSpace(out), want)
	}

	// Without an inheritable set, --cap leaves the ambient set alone.
	_, id2, _ := sleeper(t)
	out = mustRT(t, "exec", "--user", "1000:1000", "--cap", "CAP_KILL", id2, "grep", "CapAmb", "/proc/self/status")
	mustContain(t, "exec --cap without inheritable", out, "0000000000000000")
}

// TestListMissingRoot: as runc, `list` with a --root that does not exist
// fails naming it (a missing default root is merely no container yet).
func TestListMissingRoot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-root")
	r := runBinary(rtBinary, []string{"--root", missing, "list"}, nil, "", nil)
	if r.code == 0 {
		t.Fatalf("list --root %s: exit 0, stdout %q", missing, r.stdout)
	}
	mustContain(t, "stderr", r.stderr, "open "+missing+": no such file or directory")
}

// TestRootFromEnvironment: RT_ROOT is the state root when --root is not
// given; --root wins over it.
func TestRootFromEnvironment(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "env-root")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(rtBinary, args...)
		cmd.Env = append(os.Environ(), "RT_ROOT="+missing)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("list"); err == nil || !strings.Contains(out, "open "+missing+":") {
		t.Fatalf("RT_ROOT=%s list: %v, %q: want the missing RT_ROOT named", missing, err, out)
	}
	if out, err := run("--root", t.TempDir(), "list", "-q"); err != nil {
		t.Fatalf("--root with RT_ROOT=%s: %v, %q", missing, err, out)
	}
}

// TestDeviceAccessRWA: device access "rwa" is accepted as runc accepts it
// (the "a" means nothing: the rule is "rw").
func TestDeviceAccessRWA(t *testing.T) {
	requireCgroupV1(t, "devices")
	path := fmt.Sprintf("/rt-rwa-%d-%d", os.Getpid(), idCounter.Add(1))
	b := newBundle(t, withArgs("sh", "-c", "echo ok; sleep 1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11, FileMode: ptr(os.FileMode(0o666))})
		s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "rwa"},
		}}
	})
	id := newID(t)
	so := outFile(t)
	mustRTOut(t, so, "run", "-d", "--bundle", b.Dir, id)
	trackPid(t, state(t, id).Pid)
	if out := waitLines(t, so, 1); out != "ok\n" {
		t.Errorf("container with a device rule rwa: %q", out)
	}
	if list := cgFile(t, "devices", path, "devices.list"); !strings.Contains("\n"+list+"\n", "\nc 1:11 rw\n") {
		t.Errorf("devices.list %q, want the rule c 1:11 rw", list)
	}
}

// TestRecursiveAtimeOptions: the recursive access-time options work with
// mount_setattr (the mode is a 3-state field: it goes in attr_set with all
// of MOUNT_ATTR__ATIME in attr_clr), on the mount and on what is below it.
func TestRecursiveAtimeOptions(t *testing.T) {
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", sub, "tmpfs", syscall.MS_NOATIME, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(sub, syscall.MNT_DETACH) })
	for opt, want := range map[string]string{
		"rnoatime": "noatime", "ratime": "relatime", "rrelatime": "relatime",
		"rnostrictatime": "relatime", "rstrictatime": "", "rnorelatime": "",
	} {
		b := newBundle(t, withArgs("sh", "-c", `awk '$5 == "/m" || $5 == "/m/sub" { print $5, $6 }' /proc/self/mountinfo`), func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"rbind", opt}})
		})
		out, se, code := runIn(t, b)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", opt, code, se)
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Errorf("%s: mountinfo lines %q, want /m and /m/sub", opt, out)
			continue
		}
		for _, l := range lines {
			f := strings.Fields(l)
			opts := strings.Split(f[1], ",")
			has := func(s string) bool { return contains(opts, s) }
			switch {
			case want != "" && !has(want):
				t.Errorf("%s: %s has options %s, want %s", opt, f[0], f[1], want)
			case want == "" && (has("noatime") || has("relatime")):
				t.Errorf("%s: %s has options %s, want strictatime (neither noatime nor relatime)", opt, f[0], f[1])
			}
		}
	}
}

// TestDebugLinesLikeRunc: with --debug, a foreground run logs runc's
// parent-side lines: each signal forwarded to the container, and the exit.
func TestDebugLinesLikeRunc(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", `trap "exit 3" USR1; echo ready; while :; do sleep 0.1; done`))
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(rtBinary, "--root", ctxFor(t).root, "--debug", "run", "--bundle", b.Dir, newID(t))
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &stdout}, &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ready := pollUntil(10*time.Second, func() bool { return strings.Contains(readLocked(&stdout), "ready") })
	if ready {
		cmd.Process.Signal(syscall.SIGUSR1)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("run did not end after SIGUSR1; stderr %q", readLocked(&stderr))
	}
	if !ready {
		t.Fatalf("the container did not start; stderr %q", readLocked(&stderr))
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	se := readLocked(&stderr)
	mustContain(t, "--debug stderr", se, "forwarding signal 10 (SIGUSR1) to ")
	mustContain(t, "--debug stderr", se, "process exited")
	mustContain(t, "--debug stderr", se, "status=3")
}

var outMu sync.Mutex

type syncWriter struct{ w *bytes.Buffer }

func (s *syncWriter) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	return s.w.Write(p)
}

func readLocked(b *bytes.Buffer) string {
	outMu.Lock()
	defer outMu.Unlock()
	return b.String()
}
