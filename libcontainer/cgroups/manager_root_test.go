package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

func requireV1Root(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: creating cgroups needs root")
	}
	if cgutil.IsUnifiedMode() {
		t.Skip("skipping: host is cgroup v2 only; the v1 (fs1) manager needs v1 hierarchies")
	}
	for _, c := range []string{"memory", "pids", "cpu", "cpuset", "devices", "freezer"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c, "cgroup.procs")); err != nil {
			t.Skipf("skipping: cgroup v1 %s controller is not mounted at /sys/fs/cgroup/%s", c, c)
		}
	}
}

func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func stopSleeper(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func readTrim(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := cgutil.ReadFile(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func expectFile(t *testing.T, dir, file, want string) {
	t.Helper()
	if got := readTrim(t, dir, file); got != want {
		t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
	}
}

func ptrI(v int64) *int64     { return &v }
func ptrU(v uint64) *uint64   { return &v }
func ptrB(v bool) *bool       { return &v }
func ptrU16(v uint16) *uint16 { return &v }

func TestManagerRealCgroupV1(t *testing.T) {
	requireV1Root(t)
	cgPath := fmt.Sprintf("/rt-cgtest-%d", os.Getpid())
	devs := append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, DefaultAllowedDevices...)
	res := &specs.LinuxResources{
		Devices: devs,
		Memory: &specs.LinuxMemory{
			Limit: ptrI(64 << 20), Swap: ptrI(128 << 20), Reservation: ptrI(32 << 20),
			Swappiness: ptrU(10), DisableOOMKiller: ptrB(false), KernelTCP: ptrI(16 << 20),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptrU(512), Quota: ptrI(50000), Period: ptrU(100000), Cpus: "0", Mems: "0",
		},
		Pids: &specs.LinuxPids{Limit: ptrI(50)},
	}
	if err := ValidateResources(res); err != nil {
		t.Fatal(err)
	}
	m, err := New(&configs.Cgroup{Path: cgPath, Resources: res}, "ignored-id")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	paths := m.Paths()
	for _, c := range []string{"memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "name=systemd"} {
		if want := "/" + strings.TrimPrefix(cgPath, "/"); !strings.HasSuffix(paths[c], want) {
			t.Fatalf("paths[%s] = %q, want it to end in %q", c, paths[c], want)
		}
	}
	for _, c := range []string{"hugetlb", "net_cls", "net_prio", "rdma"} {
		if p, ok := paths[c]; ok && !cgutil.Exists(filepath.Dir(p), "cgroup.procs") {
			t.Errorf("got a path for unmounted %s: %q", c, p)
		}
	}

	child := startSleeper(t)
	if err := m.Apply(child.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(res); err != nil {
		t.Fatal(err)
	}

	// The process is in every hierarchy's new cgroup.
	own, err := cgutil.PidCgroups(fmt.Sprint(child.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids", "cpu", "devices", "freezer", "name=systemd"} {
		if !strings.HasSuffix(paths[c], own[c]) {
			t.Errorf("child in %s cgroup %q, manager path %q", c, own[c], paths[c])
		}
	}
	pids, err := m.GetPids()
	if err != nil || !slices.Contains(pids, child.Process.Pid) {
		t.Fatalf("GetPids = %v, %v; want it to hold %d", pids, err, child.Process.Pid)
	}

	mem := paths["memory"]
	expectFile(t, mem, "memory.limit_in_bytes", fmt.Sprint(64<<20))
	expectFile(t, mem, "memory.memsw.limit_in_bytes", fmt.Sprint(128<<20))
	expectFile(t, mem, "memory.soft_limit_in_bytes", fmt.Sprint(32<<20))
	expectFile(t, mem, "memory.swappiness", "10")
	expectFile(t, mem, "memory.kmem.tcp.limit_in_bytes", fmt.Sprint(16<<20))
	expectFile(t, paths["pids"], "pids.max", "50")
	expectFile(t, paths["cpu"], "cpu.shares", "512")
	expectFile(t, paths["cpu"], "cpu.cfs_quota_us", "50000")
	expectFile(t, paths["cpu"], "cpu.cfs_period_us", "100000")
	expectFile(t, paths["cpuset"], "cpuset.cpus", "0")
	expectFile(t, paths["cpuset"], "cpuset.mems", "0")
	var wantList []string
	for _, d := range DefaultAllowedDevices {
		maj, min := "*", "*"
		if d.Major != nil {
			maj = fmt.Sprint(*d.Major)
		}
		if d.Minor != nil {
			min = fmt.Sprint(*d.Minor)
		}
		wantList = append(wantList, fmt.Sprintf("%s %s:%s %s", d.Type, maj, min, d.Access))
	}
	expectFile(t, paths["devices"], "devices.list", strings.Join(wantList, "\n"))

	// Raising memory+swap (memsw first) and lowering (memory first).
	raise := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI(256 << 20), Swap: ptrI(512 << 20)}}
	if err := m.Set(raise); err != nil {
		t.Fatalf("raise: %v", err)
	}
	expectFile(t, mem, "memory.limit_in_bytes", fmt.Sprint(256<<20))
	expectFile(t, mem, "memory.memsw.limit_in_bytes", fmt.Sprint(512<<20))
	lower := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI(32 << 20), Swap: ptrI(48 << 20)}}
	if err := m.Set(lower); err != nil {
		t.Fatalf("lower: %v", err)
	}
	expectFile(t, mem, "memory.limit_in_bytes", fmt.Sprint(32<<20))
	expectFile(t, mem, "memory.memsw.limit_in_bytes", fmt.Sprint(48<<20))
	unlimited := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI(-1)}, Pids: &specs.LinuxPids{Limit: ptrI(-1)}}
	if err := m.Set(unlimited); err != nil {
		t.Fatalf("unlimited: %v", err)
	}
	expectFile(t, paths["pids"], "pids.max", "max")
	if v, _ := cgutil.ReadUint(mem, "memory.memsw.limit_in_bytes"); v < 1<<60 {
		t.Errorf("memsw not unlimited after limit -1: %d", v)
	}

	// Re-applying the same device list writes nothing and keeps it.
	if err := m.Set(&specs.LinuxResources{Devices: devs}); err != nil {
		t.Fatal(err)
	}
	expectFile(t, paths["devices"], "devices.list", strings.Join(wantList, "\n"))

	// A weight needs blkio.weight or blkio.bfq.weight.
	err = m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(500)}})
	if cgutil.Exists(paths["blkio"], "blkio.weight") || cgutil.Exists(paths["blkio"], "blkio.bfq.weight") {
		if err != nil {
			t.Errorf("blkio weight: %v", err)
		}
	} else if !errors.Is(err, ErrNotSupported) {
		t.Errorf("blkio weight without CFQ/BFQ: got %v, want ErrNotSupported", err)
	}

	// Unmounted optional controller with a real limit: skipped, as runc.
	if _, err := os.Stat("/sys/fs/cgroup/hugetlb"); os.IsNotExist(err) {
		err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}})
		if err != nil {
			t.Errorf("hugetlb unmounted: got %v, want nil (skipped with a warning)", err)
		}
	}

	// Freezer.
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.IsFrozen(); err != nil || !frozen {
		t.Fatalf("IsFrozen after Freeze = %v, %v", frozen, err)
	}
	// The package's IsFrozen on the saved paths (list's probe) agrees.
	if frozen, err := IsFrozen(m.Paths()); err != nil || !frozen {
		t.Fatalf("IsFrozen(paths) after Freeze = %v, %v", frozen, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.IsFrozen(); err != nil || frozen {
		t.Fatalf("IsFrozen after Thaw = %v, %v", frozen, err)
	}
	if frozen, err := IsFrozen(m.Paths()); err != nil || frozen {
		t.Fatalf("IsFrozen(paths) after Thaw = %v, %v", frozen, err)
	}
	if _, err := IsFrozen(map[string]string{"freezer": "relative/x"}); err == nil || !strings.HasPrefix(err.Error(), "cgroup: ") {
		t.Fatalf("IsFrozen of a relative freezer path = %v, want a cgroup: error", err)
	}

	// A sub-cgroup with its own process counts for GetPids.
	sub := filepath.Join(paths["devices"], "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	child2 := startSleeper(t)
	if err := cgutil.WriteFile(sub, "cgroup.procs", fmt.Sprint(child2.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	pids, err = m.GetPids()
	if err != nil || !slices.Contains(pids, child2.Process.Pid) || !slices.Contains(pids, child.Process.Pid) {
		t.Fatalf("GetPids with sub-cgroup = %v, %v", pids, err)
	}

	// Load from the saved paths and destroy through it.
	loaded, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Exists() {
		t.Fatal("loaded manager: Exists() = false")
	}
	stopSleeper(child)
	stopSleeper(child2)
	if err := loaded.Destroy(); err != nil {
		t.Fatal(err)
	}
	if loaded.Exists() || m.Exists() {
		t.Fatal("cgroup still exists after Destroy")
	}
	for c, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s dir %s still there", c, p)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	if _, err := m.GetPids(); !errors.Is(err, ErrNotExist) {
		t.Fatalf("GetPids after Destroy: %v, want ErrNotExist", err)
	}
}

func TestManagerDefaultPathIsRelative(t *testing.T) {
	requireV1Root(t)
	id := fmt.Sprintf("rt-cgtest-default-%d", os.Getpid())
	m, err := New(&configs.Cgroup{}, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	own, err := cgutil.OwnCgroups()
	if err != nil {
		t.Fatal(err)
	}
	paths := m.Paths()
	want := filepath.Join("/sys/fs/cgroup/memory", own["memory"], id)
	if paths["memory"] != want {
		t.Fatalf("memory path %q, want %q (relative to own cgroup %q)", paths["memory"], want, own["memory"])
	}
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	// cpuset got its cpus/mems copied from the parent.
	if readTrim(t, paths["cpuset"], "cpuset.cpus") == "" || readTrim(t, paths["cpuset"], "cpuset.mems") == "" {
		t.Fatal("cpuset.cpus/mems left empty")
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if m.Exists() {
		t.Fatal("exists after Destroy")
	}
}

func TestManagerNestedCpusetParents(t *testing.T) {
	requireV1Root(t)
	top := fmt.Sprintf("/rt-cgtest-nest-%d", os.Getpid())
	m, err := New(&configs.Cgroup{Path: top + "/a/b"}, "x")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Remove the intermediate levels too.
		tops := make(map[string]string)
		for k, p := range m.Paths() {
			tops[k] = strings.TrimSuffix(p, "/a/b")
		}
		if l, err := Load(tops); err == nil {
			_ = l.Destroy()
		}
	})
	child := startSleeper(t)
	if err := m.Apply(child.Process.Pid); err != nil {
		t.Fatal(err)
	}
	paths := m.Paths()
	for _, level := range []string{"", "/a"} {
		dir := "/sys/fs/cgroup/cpuset" + top + level
		if readTrim(t, dir, "cpuset.cpus") == "" || readTrim(t, dir, "cpuset.mems") == "" {
			t.Errorf("%s: cpuset.cpus/mems left empty", dir)
		}
	}
	if !strings.HasSuffix(paths["cpuset"], top+"/a/b") {
		t.Errorf("cpuset path %q", paths["cpuset"])
	}
	stopSleeper(child)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}
