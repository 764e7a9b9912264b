package fs2

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

// cgroup2Mount finds a cgroup2 mount to test on: /sys/fs/cgroup on a v2
// host, /sys/fs/cgroup/unified on a hybrid one (no controllers there,
// but the core files, freezing and device programs work).
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	hs, err := cgutil.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.IsUnified && h.Root == "/" {
			return h.Mountpoint
		}
	}
	t.Skip("no cgroup2 hierarchy is mounted (kernel without cgroup2)")
	return ""
}

func newTestManager(t *testing.T, r *specs.LinuxResources) *Manager {
	mount := cgroup2Mount(t)
	path := fmt.Sprintf("/rt-fs2-test-%d/%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))
	m, err := newManager(&configs.Cgroup{Path: path, Resources: r}, "x", mount)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		_ = os.Remove(filepath.Dir(m.dir))
	})
	return m
}

// startInCgroup starts cmd directly inside m's cgroup (CLONE_INTO_CGROUP
// through CgroupFD).
func startInCgroup(t *testing.T, m *Manager, cmd *exec.Cmd) {
	t.Helper()
	fd, err := m.CgroupFD()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v in cgroup (CLONE_INTO_CGROUP): %v", cmd.Args, err)
	}
}

func TestApplyFreezeDestroy(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if !m.Exists() {
		t.Fatal("cgroup not created")
	}
	sleeper := exec.Command("sleep", "60")
	startInCgroup(t, m, sleeper)
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	pids, err := m.GetPids()
	if err != nil || len(pids) != 1 || pids[0] != sleeper.Process.Pid {
		t.Fatalf("GetPids = %v, %v; want [%d]", pids, err, sleeper.Process.Pid)
	}
	// Apply moves another process in.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if err := m.Apply(other.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if pids, _ := m.GetPids(); len(pids) != 2 {
		t.Fatalf("GetPids after Apply = %v", pids)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.IsFrozen(); err != nil || !frozen {
		t.Fatalf("IsFrozen = %v, %v after Freeze", frozen, err)
	}
	if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sleeper.Process.Pid)); !bytes.Contains(st, []byte(") S ")) {
		t.Logf("frozen task state: %s", st) // frozen tasks sleep in the freezer
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.IsFrozen(); err != nil || frozen {
		t.Fatalf("IsFrozen = %v, %v after Thaw", frozen, err)
	}
	// Destroy with a sub-cgroup and the processes gone.
	if err := os.Mkdir(filepath.Join(m.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = sleeper.Process.Kill()
	_ = sleeper.Wait()
	_ = other.Process.Kill()
	_ = other.Wait()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if m.Exists() {
		t.Fatal("cgroup still there after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
}

// The device program is enforced: /dev/null (1:3) readable, /dev/zero
// (1:5) not; a second Set replaces the program instead of stacking.
func TestDeviceProgram(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
	}
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	try := func(path string) (string, error) {
		cmd := exec.Command("head", "-c1", path)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		startInCgroup(t, m, cmd)
		err := cmd.Wait()
		return out.String(), err
	}
	if out, err := try("/dev/null"); err != nil {
		t.Fatalf("/dev/null denied: %v: %s", err, out)
	}
	out, err := try("/dev/zero")
	if err == nil || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("/dev/zero: want EPERM, got %v: %q", err, out)
	}
	// Replace: now /dev/zero is allowed too.
	rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "r"})
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if out, err := try("/dev/zero"); err != nil {
		t.Fatalf("/dev/zero after update: %v: %s", err, out)
	}
	cg, err := syscall.Open(m.dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(cg)
	progs, err := attachedDevicePrograms(cg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		syscall.Close(p)
	}
	if len(progs) != 1 {
		t.Fatalf("%d device programs attached after an update, want 1", len(progs))
	}
	// Allow-all detaches it.
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}}); err != nil {
		t.Fatal(err)
	}
	if progs, _ = attachedDevicePrograms(cg); len(progs) != 0 {
		t.Fatalf("%d device programs attached after allow-all, want 0", len(progs))
	}
}

// Unified keys are checked against the cgroup's own controllers.
func TestSetUnifiedChecksControllers(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	avail, err := readControllers(m.dir)
	if err != nil {
		t.Fatal(err)
	}
	if avail["misc"] {
		t.Skip("misc controller available here; the test needs one that is not")
	}
	err = m.Set(&specs.LinuxResources{Unified: map[string]string{"misc.max": "x 1"}})
	if err == nil || !strings.HasPrefix(err.Error(), `linux.resources.unified["misc.max"]: controller "misc" is not in`) {
		t.Fatalf("got %v", err)
	}
	err = m.Set(&specs.LinuxResources{Unified: map[string]string{"../cgroup.procs": "1"}})
	if err == nil || !strings.Contains(err.Error(), `unified["../cgroup.procs"]`) {
		t.Fatalf("got %v", err)
	}
	// A core file is allowed.
	if err := m.Set(&specs.LinuxResources{Unified: map[string]string{"cgroup.max.depth": "3"}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := cgutil.ReadFile(m.dir, "cgroup.max.depth"); strings.TrimSpace(s) != "3" {
		t.Fatalf("cgroup.max.depth = %q", s)
	}
}

func TestStatsOnBareCgroup(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Hugetlb == nil {
		t.Fatal("Hugetlb map not made")
	}
}
