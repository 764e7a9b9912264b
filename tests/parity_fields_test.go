package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Spec fields runc 1.5 applies and rt once ignored (issue: "Spec fields
// accepted and ignored").

// numaNodesOnline is the host's online NUMA nodes ("0", "0-1"), or "".
func numaNodesOnline() string {
	b, err := os.ReadFile("/sys/devices/system/node/online")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// linux.memoryPolicy is set with set_mempolicy(2) before the process is
// exec'd: numa_maps shows the task's policy on every mapping that has none
// of its own.
func TestMemoryPolicyBind(t *testing.T) {
	if _, err := os.Stat("/proc/self/numa_maps"); err != nil {
		t.Skip("kernel without NUMA support (CONFIG_NUMA): no /proc/self/numa_maps")
	}
	b := newBundle(t, withArgs("sh", "-c", "cat /proc/self/numa_maps"), func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
	})
	out := mustRunIn(t, b)
	mustContain(t, "numa_maps of the container's process", out, " bind:0 ")
	// Without a policy: the default.
	b = newBundle(t, withArgs("sh", "-c", "cat /proc/self/numa_maps"))
	out = mustRunIn(t, b)
	if strings.Contains(out, "bind:") {
		t.Errorf("numa_maps without a memoryPolicy shows a bind policy:\n%s", out)
	}
	// Interleave over node 0, with a flag.
	b = newBundle(t, withArgs("sh", "-c", "cat /proc/self/numa_maps"), func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0",
			Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
	})
	out = mustRunIn(t, b)
	mustContain(t, "numa_maps of the container's process", out, " interleave=static:0 ")
}

// A node the host lacks fails create with an error naming the field, and
// leaves nothing behind (runc: set_mempolicy's EINVAL).
func TestMemoryPolicyAbsentNode(t *testing.T) {
	online := numaNodesOnline()
	if online == "" {
		t.Skip("kernel without NUMA support: no /sys/devices/system/node/online")
	}
	if strings.Contains(online, "7") || strings.Contains(online, "-") && online != "0" {
		t.Skipf("host has more than one NUMA node (%s): node 7 may exist", online)
	}
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "7"}
	})
	expectCreateFails(t, b, "linux.memoryPolicy")
	// An invalid policy is refused before anything is made.
	b = newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}
	})
	expectCreateFails(t, b, "linux.memoryPolicy.nodes")
}

func cpusAllowed(t *testing.T, status string) string {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in %q", status)
	return ""
}

// allCPUs is the CPU list of the test's own cgroup (what a container with
// no cpuset of its own may use).
func allCPUs(t *testing.T) string {
	return cpusAllowed(t, readFile(t, "/proc/self/status"))
}

// runc 1.5 resets the CPU affinity rt inherits from its caller: the
// container gets every CPU of its cgroup.
func TestCPUAffinityReset(t *testing.T) {
	all := allCPUs(t)
	if all == "0" {
		t.Skip("one CPU only: an affinity reset cannot be told from none")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset (util-linux) on this host")
	}
	b := newBundle(t, withArgs("cat", "/proc/self/status"))
	r := runBinary("taskset", []string{"-c", "0", rtBinary, "--root", ctxFor(t).root, "run", "--bundle", b.Dir, newID(t)}, nil, "", nil)
	if r.code != 0 {
		t.Fatalf("taskset -c 0 rt run: exit %d: %s", r.code, r.stderr)
	}
	if got := cpusAllowed(t, r.stdout); got != all {
		t.Errorf("container started under taskset -c 0: Cpus_allowed_list %q, want %q (the cgroup's)", got, all)
	}
	// exec as well.
	b = newBundle(t, withArgs("sleep", "1000"))
	id, _ := startContainer(t, b)
	r = runBinary("taskset", []string{"-c", "0", rtBinary, "--root", ctxFor(t).root, "exec", id, "cat", "/proc/self/status"}, nil, "", nil)
	if r.code != 0 {
		t.Fatalf("taskset -c 0 rt exec: exit %d: %s", r.code, r.stderr)
	}
	if got := cpusAllowed(t, r.stdout); got != all {
		t.Errorf("exec under taskset -c 0: Cpus_allowed_list %q, want %q", got, all)
	}
}

// process.execCPUAffinity applies to `rt exec` processes (config.json's is
// the default of every exec; not to the init): final wins over initial.
func TestExecCPUAffinity(t *testing.T) {
	if allCPUs(t) != "0-1" && !strings.HasPrefix(allCPUs(t), "0-") {
		t.Skipf("needs CPUs 0 and 1 (have %s)", allCPUs(t))
	}
	b := newBundle(t, withArgs("sh", "-c", "cat /proc/self/status; sleep 1000"), func(s *specs.Spec) {
		s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "1"}
	})
	id, pid := startContainer(t, b)
	if got := cpusAllowed(t, readFile(t, "/proc/"+strconv.Itoa(pid)+"/status")); got != allCPUs(t) {
		t.Errorf("init: Cpus_allowed_list %q, want %q (execCPUAffinity is not for the init)", got, allCPUs(t))
	}
	out := mustRT(t, "exec", id, "cat", "/proc/self/status")
	if got := cpusAllowed(t, out); got != "1" {
		t.Errorf("exec with initial 0, final 1: Cpus_allowed_list %q, want 1", got)
	}
	// -p process.json with only initial: it stays.
	p := *b.Spec.Process
	p.Args = []string{"cat", "/proc/self/status"}
	p.ExecCPUAffinity = &specs.CPUAffinity{Initial: "1"}
	pf := writeJSON(t, &p)
	out = mustRT(t, "exec", "-p", pf, id)
	if got := cpusAllowed(t, out); got != "1" {
		t.Errorf("exec with initial 1: Cpus_allowed_list %q, want 1", got)
	}
	// A bad list is refused, naming the field.
	p.ExecCPUAffinity = &specs.CPUAffinity{Final: "1-0"}
	pf = writeJSON(t, &p)
	_, se, code := rt(t, "exec", "-p", pf, id)
	if code == 0 || !strings.Contains(se, "process.execCPUAffinity.final") {
		t.Errorf("exec with final \"1-0\": exit %d, stderr %q; want an error naming process.execCPUAffinity.final", code, se)
	}
}

// user.* sysctls belong to the user namespace: allowed with one (runc 1.5).
func TestUserSysctlWithUserNamespace(t *testing.T) {
	if !hasNS("user") {
		t.Skip("kernel lacks user namespaces (/proc/self/ns/user)")
	}
	b := newBundle(t, withArgs("cat", "/proc/sys/user/max_user_namespaces"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "7"}
	})
	for _, d := range []string{b.Dir, b.Dir + "/.."} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRunIn(t, b)
	if strings.TrimSpace(out) != "7" {
		t.Errorf("user.max_user_namespaces inside: %q, want 7", out)
	}
	host := strings.TrimSpace(readFile(t, "/proc/sys/user/max_user_namespaces"))
	if host == "7" {
		t.Errorf("the host's user.max_user_namespaces was changed to 7")
	}
	b = newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "7"}
	})
	expectCreateFails(t, b, "user.max_user_namespaces")
}

// linux.intelRdt on a host without resctrl: create (and restore) fails
// naming the field and leaves nothing (runc: "Intel RDT is not supported or enabled"). Where
// resctrl is mounted, the group is made, holds the container's init, and
// goes with the container.
func TestIntelRdt(t *testing.T) {
	mi := readFile(t, "/proc/self/mountinfo")
	if !strings.Contains(mi, " - resctrl ") {
		b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f", EnableMonitoring: true}
		})
		expectCreateFails(t, b, "linux.intelRdt")
		// restore too (it used to ignore the field), before criu runs
		id := newID(t)
		if _, se, code := rt(t, "restore", "--image-path", t.TempDir(), "--bundle", b.Dir, id); code == 0 || !strings.Contains(se, "linux.intelRdt") {
			t.Errorf("restore with linux.intelRdt and no resctrl: exit %d: %s", code, se)
		}
		assertNoState(t, id)
		return
	}
	root := ""
	for _, l := range strings.Split(mi, "\n") {
		if strings.Contains(l, " - resctrl ") {
			root = strings.Fields(l)[4]
		}
	}
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.IntelRdt = &specs.LinuxIntelRdt{EnableMonitoring: true}
	})
	id, pid := startContainer(t, b)
	tasks := readFile(t, filepath.Join(root, id, "tasks"))
	if !contains(strings.Fields(tasks), strconv.Itoa(pid)) {
		t.Errorf("resctrl group %s/%s tasks %q lack the init %d", root, id, tasks, pid)
	}
	if _, err := os.Stat(filepath.Join(root, id, "mon_groups", id)); err != nil {
		t.Errorf("monitoring group: %v", err)
	}
	mustRT(t, "delete", "--force", id)
	if _, err := os.Stat(filepath.Join(root, id)); err == nil {
		t.Errorf("resctrl group left after delete")
	}
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// process.scheduler, process.ioPriority and linux.personality reach the
// container's process: read back from the host.
func TestSchedulerIOPriorityPersonality(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5}
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	})
	_, pid := startContainer(t, b)
	stat := readFile(t, "/proc/"+strconv.Itoa(pid)+"/stat")
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+2:])
	// Fields 19 (nice) and 41 (policy) of stat; f starts at field 3.
	if len(f) < 39 || f[16] != "5" || f[38] != "3" {
		t.Errorf("stat: nice %q policy %q, want 5 and 3 (SCHED_BATCH)", f[16], f[38])
	}
	prio, _, errno := syscall.Syscall(syscall.SYS_IOPRIO_GET, 1 /* IOPRIO_WHO_PROCESS */, uintptr(pid), 0)
	if errno != 0 || prio != 2<<13|6 {
		t.Errorf("ioprio_get: %#x (%v), want class BE (2) level 6", prio, errno)
	}
	if got := strings.TrimSpace(readFile(t, "/proc/"+strconv.Itoa(pid)+"/personality")); got != "00000008" {
		t.Errorf("personality %q, want 00000008 (PER_LINUX32)", got)
	}
}

// The config's annotations are reported by state.
func TestAnnotationsInState(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example.rt-test": "value-1"}
	})
	id, _ := createContainer(t, b)
	if st := state(t, id); st.Annotations["org.example.rt-test"] != "value-1" {
		t.Errorf("state annotations %v, want org.example.rt-test=value-1", st.Annotations)
	}
}

// The cgroup v1 resources no other test reads back: applied, or refused
// naming the field where the kernel lacks the file (runc: the same write
// fails).
func TestCgroupResourceExtras(t *testing.T) {
	requireCgroupV1(t, "memory", "blkio")
	dev := strings.TrimSpace(readFile(t, "/sys/block/"+firstBlockDev(t)+"/dev"))
	var maj, min int64
	if _, err := fmt.Sscanf(dev, "%d:%d", &maj, &min); err != nil {
		t.Fatalf("block device number %q: %v", dev, err)
	}
	bd := specs.LinuxBlockIODevice{Major: maj, Minor: min}
	rate := uint64(1 << 20)
	kmem := int64(64 << 20)
	yes := true
	path := fmt.Sprintf("/rt-test-%d-%d", os.Getpid(), idCounter.Add(1))
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Resources = &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Kernel: &kmem, UseHierarchy: &yes},
			BlockIO: &specs.LinuxBlockIO{
				ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bd, Rate: rate}},
				ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bd, Rate: 100}},
				ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: bd, Rate: 200}},
			},
		}
	})
	id, _ := startContainer(t, b)
	for file, want := range map[string]string{
		"blkio.throttle.write_bps_device":  dev + " 1048576",
		"blkio.throttle.read_iops_device":  dev + " 100",
		"blkio.throttle.write_iops_device": dev + " 200",
	} {
		if got := cgFile(t, "blkio", path, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if got := cgFile(t, "memory", path, "memory.use_hierarchy"); got != "1" {
		t.Errorf("memory.use_hierarchy = %q, want 1", got)
	}
	// checkBeforeUpdate: a limit below the usage is refused on update.
	res := writeJSON(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(4096)), CheckBeforeUpdate: &yes}})
	if _, se, code := rt(t, "update", "-r", res, id); code == 0 || !strings.Contains(se, "checkBeforeUpdate") {
		t.Errorf("update below usage with checkBeforeUpdate: exit %d, %q; want an error naming checkBeforeUpdate", code, se)
	}
	// leafWeight, weightDevice: the CFQ files are gone from this kernel
	// (blkio.leaf_weight): the field is named in the error.
	w := uint16(500)
	for field, bio := range map[string]*specs.LinuxBlockIO{
		"blockIO.leafWeight":                 {LeafWeight: &w},
		"blockIO.weightDevice[0].leafWeight": {WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bd, LeafWeight: &w}}},
		"blockIO.weightDevice[0].weight":     {WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bd, Weight: &w}}},
	} {
		b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{BlockIO: bio}
		})
		_, se, code := runIn(t, b)
		switch {
		case code != 0 && !strings.Contains(se, field):
			t.Errorf("%s: exit %d, error %q does not name the field", field, code, se)
		case code == 0 && field != "blockIO.weightDevice[0].weight":
			t.Errorf("%s: accepted, but this kernel has no file for it", field)
		}
	}
	// net_prio: refused naming the field where the controller is absent.
	if _, err := os.Stat(filepath.Join(cgroupRoot, "net_prio")); err != nil {
		b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Network: &specs.LinuxNetwork{
				Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 1}}}}
		})
		expectCreateFails(t, b, "network.priorities")
	}
}

func firstBlockDev(t *testing.T) string {
	entries, _ := os.ReadDir("/sys/block")
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "loop") && !strings.HasPrefix(e.Name(), "zram") && !strings.HasPrefix(e.Name(), "ram") {
			return e.Name()
		}
	}
	t.Skip("no block device in /sys/block to throttle")
	return ""
}

// Seccomp argument conditions: index, value, valueTwo and op reach the
// filter (SCMP_CMP_MASKED_EQ: arg & value == valueTwo).
func TestSeccompArgs(t *testing.T) {
	// chmod giving "other" rwx is denied; other modes pass.
	b := newBundle(t, withArgs("sh", "-c", "touch /tmp/f; chmod 777 /tmp/f; echo open=$?; chmod 750 /tmp/f; echo closed=$?"), func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{
				Names:  []string{"chmod"},
				Action: specs.ActErrno,
				Args:   []specs.LinuxSeccompArg{{Index: 1, Value: 0o7, ValueTwo: 0o7, Op: specs.OpMaskedEqual}},
			}, {
				Names:  []string{"fchmodat", "fchmodat2"},
				Action: specs.ActErrno,
				Args:   []specs.LinuxSeccompArg{{Index: 2, Value: 0o7, ValueTwo: 0o7, Op: specs.OpMaskedEqual}},
			}},
		}
	})
	out := mustRunIn(t, b)
	if !strings.Contains(out, "open=1") || !strings.Contains(out, "closed=0") {
		t.Errorf("chmod 777 (mode&7 == 7: denied) and chmod 750 (allowed): got %q", out)
	}
}

// Time namespace offsets together with a user namespace (runc writes
// timens_offsets once the user namespace is set up, before any process
// enters the time namespace).
func TestTimeOffsetsWithUserNamespace(t *testing.T) {
	if !hasNS("time") || !hasNS("user") {
		t.Skip("kernel lacks time or user namespaces (/proc/self/ns/time, /proc/self/ns/user)")
	}
	const offset = 1000000
	b := newBundle(t, withArgs("sh", "-c", "cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace},
			specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"boottime":  {Secs: offset, Nanosecs: 5},
			"monotonic": {Secs: offset},
		}
	})
	for _, d := range []string{b.Dir, b.Dir + "/.."} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRunIn(t, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	inside, err := strconv.ParseFloat(lines[0], 64)
	if err != nil {
		t.Fatalf("parse uptime inside %q: %v", out, err)
	}
	host, _ := strconv.ParseFloat(strings.Fields(readFile(t, "/proc/uptime"))[0], 64)
	if inside < host+offset-60 || inside > host+offset+60 {
		t.Errorf("uptime inside %v, host %v: boottime offset %d not applied", inside, host, offset)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "boottime 1000000 5") {
		t.Errorf("timens_offsets inside: %q, want boottime 1000000 5", out)
	}
}

// The hooks run after create (startContainer in the container, poststart
// and poststop on the host) run the program at their path.
func TestHookPathsRun(t *testing.T) {
	dir := t.TempDir()
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + name}}
	}
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			StartContainer: []specs.Hook{hook("/tmp/start-ran")},
			Poststart:      []specs.Hook{hook(filepath.Join(dir, "poststart-ran"))},
			Poststop:       []specs.Hook{hook(filepath.Join(dir, "poststop-ran"))},
		}
	})
	mustRunIn(t, b)
	for _, f := range []string{filepath.Join(b.Rootfs, "tmp", "start-ran"), filepath.Join(dir, "poststart-ran"), filepath.Join(dir, "poststop-ran")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("hook did not run: %v", err)
		}
	}
}

// Masked directories share one empty read-only tmpfs (runc 1.5: one
// superblock, one device number), and a path listed twice is masked once.
func TestMaskedDirsShareOneTmpfs(t *testing.T) {
	dirs := []string{"/proc/acpi", "/proc/scsi", "/sys/firmware", "/proc/rt-no-such-dir"}
	b := newBundle(t, withArgs("cat", "/proc/self/mountinfo"), func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(append([]string(nil), dirs...), "/proc/acpi", "/proc//acpi/")
	})
	out := mustRunIn(t, b)
	devs := map[string]bool{}
	count := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		for _, d := range dirs {
			if f[4] != d {
				continue
			}
			count[d]++
			sep := strings.Index(l, " - ")
			rest := strings.Fields(l[sep+3:])
			if rest[0] != "tmpfs" || !strings.HasPrefix(f[5], "ro") {
				t.Errorf("%s: not a read-only tmpfs: %s", d, l)
			}
			devs[f[2]] = true
		}
	}
	masked := 0
	for _, d := range dirs[:3] {
		if _, err := os.Stat(d); err != nil {
			continue // the host lacks it: nothing to mask
		}
		masked++
		if count[d] != 1 {
			t.Errorf("%s is mounted over %d times, want once", d, count[d])
		}
	}
	if masked >= 2 && len(devs) != 1 {
		t.Errorf("masked directories have %d tmpfs superblocks (%v), want one shared", len(devs), devs)
	}
}

// A mount target that is a dangling symlink is resolved inside the rootfs
// and created there (runc 1.2+): a directory for a tmpfs, a file for a
// bind-mounted file; the mount lands at the symlink's target.
func TestMountThroughDanglingSymlink(t *testing.T) {
	src := filepath.Join(t.TempDir(), "conf")
	if err := os.WriteFile(src, []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, withArgs("sh", "-c", "grep -E ' /target/(dir|conf) ' /proc/self/mountinfo | cut -d' ' -f5; cat /etc/conf"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/etc/conf", Type: "bind", Source: src, Options: []string{"bind", "ro"}})
	})
	os.MkdirAll(filepath.Join(b.Rootfs, "etc"), 0o755)
	for link, target := range map[string]string{"data": "/target/dir", "etc/conf": "../target/conf"} {
		if err := os.Symlink(target, filepath.Join(b.Rootfs, link)); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRunIn(t, b)
	if out != "/target/dir\n/target/conf\nfrom-host\n" {
		t.Errorf("mounts through dangling symlinks: got %q, want /target/dir and /target/conf mounted, the file readable", out)
	}
	if _, err := os.Lstat(filepath.Join(b.Rootfs, "target", "conf")); err != nil {
		t.Errorf("the file target was not created inside the rootfs: %v", err)
	}
}

// Bind mounts and their source's flags (runc >= 1.2): a plain bind keeps
// them; with any flag option, set or cleared ("ro", "nosuid", "rw"), the
// mount gets exactly the options' flags.
func TestBindMountInheritedFlags(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", src, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount a nosuid,nodev,noexec tmpfs: %v", err)
	}
	defer syscall.Unmount(src, syscall.MNT_DETACH)
	b := newBundle(t, withArgs("sh", "-c", "grep ' /m[0-9] ' /proc/self/mountinfo | cut -d' ' -f5,6"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/m1", Type: "bind", Source: src, Options: []string{"bind"}},
			specs.Mount{Destination: "/m2", Type: "bind", Source: src, Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/m3", Type: "bind", Source: src, Options: []string{"bind", "nosuid"}},
			specs.Mount{Destination: "/m4", Type: "bind", Source: src, Options: []string{"rbind", "rw"}},
		)
	})
	want := "/m1 rw,nosuid,nodev,noexec,relatime\n/m2 ro,relatime\n/m3 rw,nosuid,relatime\n/m4 rw,relatime\n"
	if out := mustRunIn(t, b); out != want {
		t.Errorf("bind mounts of a nosuid,nodev,noexec source:\n%s\nwant:\n%s", out, want)
	}
}

// Bind sources are opened outside the container's user namespace (runc
// >= 1.2): a source under a 0700 directory of the host's root, which the
// container's mapped root cannot reach, is mounted.
func TestBindSourceOpenedOutsideUserNamespace(t *testing.T) {
	if !hasNS("user") {
		t.Skip("kernel lacks user namespaces (/proc/self/ns/user)")
	}
	private := t.TempDir() // 0700, owned by root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(private, "shared")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("reached\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, withArgs("cat", "/data/f"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
	})
	if err := os.Mkdir(filepath.Join(b.Rootfs, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{b.Dir, b.Dir + "/.."} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out := mustRunIn(t, b); out != "reached\n" {
		t.Errorf("bind source under a 0700 directory: got %q", out)
	}
}

// A network namespace joined by path together with a new user namespace
// (Kubernetes' pods with user namespaces): as runc, the netns is joined
// first, as the host's root, then the user namespace is made.
func TestJoinNetnsWithNewUserNamespace(t *testing.T) {
	if !hasNS("user") {
		t.Skip("kernel lacks user namespaces (/proc/self/ns/user)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 `ip` not installed")
	}
	name := fmt.Sprintf("rt-pf-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add failed (network namespaces unavailable?): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	path := "/var/run/netns/" + name
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	for _, d := range []string{b.Dir, b.Dir + "/.."} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, pid := startContainer(t, b)
	if statIno(t, path) != statIno(t, fmt.Sprintf("/proc/%d/ns/net", pid)) {
		t.Errorf("the container is not in the joined network namespace")
	}
	if nsInode(t, pid, "user") == nsInode(t, os.Getpid(), "user") {
		t.Errorf("no new user namespace")
	}
}

// Real-time scheduling: process.scheduler's SCHED_FIFO priority reaches the
// process, given real-time time in its cgroup (linux.resources.cpu
// realtimeRuntime/realtimePeriod, cgroup v1 with RT group scheduling).
func TestSchedulerRealtime(t *testing.T) {
	requireCgroupV1(t, "cpu")
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cpu", "cpu.rt_runtime_us")); err != nil {
		t.Skip("kernel without RT group scheduling (no cpu.rt_runtime_us)")
	}
	path := fmt.Sprintf("/rt-test-%d-%d", os.Getpid(), idCounter.Add(1))
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{
			RealtimeRuntime: ptr(int64(10000)), RealtimePeriod: ptr(uint64(1000000))}}
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	})
	_, pid := startContainer(t, b)
	stat := readFile(t, "/proc/"+strconv.Itoa(pid)+"/stat")
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+2:])
	// Fields 40 (rt_priority) and 41 (policy; SCHED_RESET_ON_FORK is not
	// shown there); f starts at field 3.
	if len(f) < 39 || f[37] != "10" || f[38] != "1" {
		t.Errorf("stat: rt_priority %q policy %q, want 10 and 1 (SCHED_FIFO)", f[37], f[38])
	}
	if attr, err := unix.SchedGetAttr(pid, 0); err != nil || attr.Flags&unix.SCHED_FLAG_RESET_ON_FORK == 0 || attr.Priority != 10 {
		t.Errorf("sched_getattr: %+v, %v; want priority 10 and SCHED_FLAG_RESET_ON_FORK", attr, err)
	}
	if got := cgFile(t, "cpu", path, "cpu.rt_runtime_us"); got != "10000" {
		t.Errorf("cpu.rt_runtime_us = %q, want 10000", got)
	}
	if got := cgFile(t, "cpu", path, "cpu.rt_period_us"); got != "1000000" {
		t.Errorf("cpu.rt_period_us = %q, want 1000000", got)
	}
}

// The kernel.hostname sysctl is refused: it conflicts with the hostname
// field (runc's error); kernel.domainname is allowed with a uts namespace.
func TestSysctlKernelHostnameRefused(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"kernel.hostname": "other"}
	})
	expectCreateFails(t, b, "kernel.hostname")
	b = newBundle(t, withArgs("cat", "/proc/sys/kernel/domainname"), func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"kernel.domainname": "example.org"}
	})
	if out := mustRunIn(t, b); strings.TrimSpace(out) != "example.org" {
		t.Errorf("kernel.domainname inside: %q, want example.org", out)
	}
}
