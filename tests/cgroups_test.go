package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const cgroupRoot = "/sys/fs/cgroup"

// requireCgroupV1 skips unless the named v1 controllers are mounted.
func requireCgroupV1(t *testing.T, ctrls ...string) {
	t.Helper()
	for _, c := range ctrls {
		if _, err := os.Stat(filepath.Join(cgroupRoot, c, "cgroup.procs")); err != nil {
			t.Skipf("cgroup v1 controller %q not mounted at %s/%s", c, cgroupRoot, c)
		}
	}
}

func cgFile(t *testing.T, ctrl, path, file string) string {
	t.Helper()
	return strings.TrimSpace(readFile(t, filepath.Join(cgroupRoot, ctrl, path, file)))
}

func TestCgroupResources(t *testing.T) {
	requireCgroupV1(t, "memory", "pids", "cpu", "cpuset", "devices")
	path := fmt.Sprintf("/rt-test-%d-%d", os.Getpid(), idCounter.Add(1))
	mem := int64(64 << 20)
	pids := int64(20)
	shares := uint64(512)
	quota, period := int64(50000), uint64(100000)
	kmsgMode := os.FileMode(0o666)
	b := newBundle(t, withArgs("sh", "-c", "echo x > /dev/null && echo null-ok; head -c 1 /dev/kmsg >/dev/null 2>&1 || echo kmsg-denied; sleep 1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11, FileMode: &kmsgMode})
		s.Linux.Resources = &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: &mem},
			Pids:   &specs.LinuxPids{Limit: &pids},
			CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0"},
			Devices: []specs.LinuxDeviceCgroup{
				{Allow: false, Access: "rwm"},
				{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
			},
		}
	})
	id := newID(t)
	so := outFile(t)
	mustRTOut(t, so, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	if out := waitLines(t, so, 2); out != "null-ok\nkmsg-denied\n" {
		t.Errorf("device access inside = %q, want null allowed and kmsg denied", out)
	}
	for _, c := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"pids", "pids.max", "20"},
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpuset", "cpuset.cpus", "0"},
	} {
		if got := cgFile(t, c.ctrl, path, c.file); got != c.want {
			t.Errorf("%s/%s%s = %q, want %q", c.ctrl, path, "/"+c.file, got, c.want)
		}
	}
	devs := cgFile(t, "devices", path, "devices.list")
	if strings.Contains(devs, "a *:* rwm") {
		t.Errorf("devices.list still allows everything:\n%s", devs)
	}
	if !strings.Contains(devs, "c 1:3 rwm") {
		t.Errorf("devices.list lacks c 1:3 rwm:\n%s", devs)
	}
	for _, ctrl := range []string{"memory", "pids", "cpu", "cpuset", "devices", "freezer"} {
		procs := strings.Fields(cgFile(t, ctrl, path, "cgroup.procs"))
		if !contains(procs, strconv.Itoa(pid)) {
			t.Errorf("init pid %d not in %s%s/cgroup.procs (%v)", pid, ctrl, path, procs)
		}
	}
	mustRT(t, "delete", "--force", id)
	for _, ctrl := range []string{"memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio", "cpuacct"} {
		dir := filepath.Join(cgroupRoot, ctrl, path)
		if !pollUntil(5*time.Second, func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) }) {
			t.Errorf("cgroup %s left after delete", dir)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCgroupPidsLimitEnforced(t *testing.T) {
	requireCgroupV1(t, "pids")
	pids := int64(5)
	// ash gives up when fork fails, so "all-forked" is printed only if
	// 8 background processes could be started.
	b := newBundle(t, withArgs("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; echo all-forked"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = fmt.Sprintf("/rt-test-%d-%d", os.Getpid(), idCounter.Add(1))
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids}}
	})
	so, se, code := runIn(t, b)
	if code == 0 || strings.Contains(so, "all-forked") {
		t.Errorf("started 8 processes under pids.max 5: exit %d stdout %q stderr %q", code, so, se)
	}
	mustContain(t, "fork failure", se, "fork")
}

func TestCgroupRelativePath(t *testing.T) {
	requireCgroupV1(t, "memory")
	rel := fmt.Sprintf("rt-rel-%d-%d", os.Getpid(), idCounter.Add(1))
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	id, pid := startContainer(t, b)
	self := cgroupDirsOf(os.Getpid())
	got := cgroupDirsOf(pid)
	for _, ctrl := range []string{"memory", "pids", "cpu"} {
		if want := filepath.Join(self[ctrl], rel); got[ctrl] != want {
			t.Errorf("%s cgroup %s, want %s (relative to the caller's cgroup)", ctrl, got[ctrl], want)
		}
	}
	mustRT(t, "delete", "--force", id)
	for _, ctrl := range []string{"memory", "pids", "cpu"} {
		if d := filepath.Join(self[ctrl], rel); !pollUntil(5*time.Second, func() bool { _, err := os.Stat(d); return os.IsNotExist(err) }) {
			t.Errorf("cgroup %s left after delete", d)
		}
	}
}

func TestCgroupDefaultPath(t *testing.T) {
	requireCgroupV1(t, "memory", "pids")
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = "" })
	id, pid := startContainer(t, b)
	self := cgroupDirsOf(os.Getpid())
	got := cgroupDirsOf(pid)
	for _, ctrl := range []string{"memory", "pids"} {
		if got[ctrl] == self[ctrl] {
			t.Errorf("container without cgroupsPath shares the caller's %s cgroup %s", ctrl, got[ctrl])
		}
	}
	mustRT(t, "delete", "--force", id)
	for _, ctrl := range []string{"memory", "pids"} {
		d := got[ctrl]
		if !pollUntil(5*time.Second, func() bool { _, err := os.Stat(d); return os.IsNotExist(err) }) {
			t.Errorf("default cgroup %s left after delete", d)
		}
	}
}

// TestSystemdCgroupNoSystemd: --systemd-cgroup asks systemd for a
// transient unit over D-Bus (tests/systemd runs it against a real
// systemd); on a host whose init is not systemd it fails as runc's does,
// and leaves no state and no cgroup.
func TestSystemdCgroupNoSystemd(t *testing.T) {
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		t.Skip("systemd is this host's init: make test-systemd covers --systemd-cgroup")
	}
	name := fmt.Sprintf("sd%d", os.Getpid())
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = "system.slice:rt:" + name
	})
	id := newID(t)
	_, se, code := rt(t, "--systemd-cgroup", "run", "--bundle", b.Dir, id)
	if code == 0 || !strings.Contains(se, "systemd not running on this host") {
		t.Errorf("--systemd-cgroup without systemd: exit %d, %q; want runc's error", code, se)
	}
	if _, _, code := rt(t, "state", id); code == 0 {
		t.Errorf("state of %s exists after the failed run", id)
	}
	for _, c := range []string{"pids", "memory", "unified", ""} {
		d := "/sys/fs/cgroup/" + c + "/system.slice/rt-" + name + ".scope"
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s exists after the failed run", d)
		}
	}
}

// mountNetCgroups mounts the v1 net_cls and net_prio hierarchies when this
// kernel has them in no hierarchy yet (as scripts/conformance.sh does), so
// that linux.resources.network can be tested; it skips, naming the
// controller, when that is not possible.
func mountNetCgroups(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		t.Skipf("no /proc/cgroups: %v", err)
	}
	for _, c := range []string{"net_cls", "net_prio"} {
		dir := filepath.Join(cgroupRoot, c)
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err == nil {
			continue
		}
		free := false
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == c && f[1] == "0" {
				free = true
			}
		}
		if !free {
			t.Skipf("cgroup v1 controller %q is not in the kernel or is bound to another hierarchy", c)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skipf("cannot mount the %s controller: %v", c, err)
		}
		if out, err := exec.Command("mount", "-t", "cgroup", "-o", c, "cgroup", dir).CombinedOutput(); err != nil {
			os.Remove(dir)
			t.Skipf("cannot mount the %s controller: %v %s", c, err, out)
		}
	}
}

// TestCgroupNetwork: linux.resources.network (net_cls classID, net_prio
// priorities) lands in the container's v1 net_cls and net_prio cgroups.
func TestCgroupNetwork(t *testing.T) {
	requireSuite(t)
	mountNetCgroups(t)
	path := fmt.Sprintf("/rt-test-%d-%d", os.Getpid(), idCounter.Add(1))
	classID := uint32(0x100001)
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		s.Linux.Resources = &specs.LinuxResources{Network: &specs.LinuxNetwork{
			ClassID:    &classID,
			Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}},
		}}
	})
	id := newID(t)
	mustRT(t, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	if got := cgFile(t, "net_cls", path, "net_cls.classid"); got != "1048577" {
		t.Errorf("net_cls.classid = %q, want 1048577", got)
	}
	if got := cgFile(t, "net_prio", path, "net_prio.ifpriomap"); !strings.Contains(got, "lo 5") {
		t.Errorf("net_prio.ifpriomap = %q, want lo 5", got)
	}
	cg := readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, c := range []string{"net_cls", "net_prio"} {
		if !strings.Contains(cg, ":"+c+":"+path+"\n") {
			t.Errorf("/proc/%d/cgroup has no %s:%s:\n%s", pid, c, path, cg)
		}
	}
}
