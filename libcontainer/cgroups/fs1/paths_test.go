package fs1

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

func TestInnerPath(t *testing.T) {
	for _, tc := range []struct{ path, id, want string }{
		{"/foo/bar", "c1", "/foo/bar"},
		{"/foo/../../bar", "c1", "/bar"},
		{"foo/bar", "c1", "foo/bar"},
		{"../../escape", "c1", "escape"},
		{"", "c1", "c1"},
		{".", "c1", "c1"},
	} {
		got, err := innerPath(tc.path, tc.id)
		if err != nil || got != tc.want {
			t.Errorf("innerPath(%q, %q) = %q, %v; want %q", tc.path, tc.id, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ path, id string }{{"/", "c1"}, {"/..", "c1"}, {"", ""}, {"", "a/b"}, {"", ".."}} {
		if _, err := innerPath(bad.path, bad.id); err == nil {
			t.Errorf("innerPath(%q, %q): want error", bad.path, bad.id)
		}
	}
}

var hybridHost = []cgutil.Hierarchy{
	{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
	{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Subsystems: []string{"memory"}},
	{Mountpoint: "/sys/fs/cgroup/devices", Root: "/", Subsystems: []string{"devices"}},
	{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Subsystems: []string{"name=systemd"}},
	{Mountpoint: "/sys/fs/cgroup/foo", Root: "/", Subsystems: []string{"name=foo"}},
	{Mountpoint: "/sys/fs/cgroup/unified", Root: "/", IsUnified: true},
}

var ownCgroups = map[string]string{
	"cpu": "/", "cpuacct": "/", "memory": "/process_api/abc", "devices": "/",
	"name=systemd": "/user.slice", "": "/",
}

func TestResolvePathsAbsolute(t *testing.T) {
	paths, mps, err := resolvePaths("/foo/bar", hybridHost, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/foo/bar",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/foo/bar",
		"memory":       "/sys/fs/cgroup/memory/foo/bar",
		"devices":      "/sys/fs/cgroup/devices/foo/bar",
		"name=systemd": "/sys/fs/cgroup/systemd/foo/bar",
		"":             "/sys/fs/cgroup/unified/foo/bar",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("got %v\nwant %v", paths, want)
	}
	if mps["cpuacct"] != "/sys/fs/cgroup/cpu,cpuacct" {
		t.Fatalf("mountpoints %v", mps)
	}
}

func TestResolvePathsRelative(t *testing.T) {
	paths, _, err := resolvePaths("c1", hybridHost, ownCgroups)
	if err != nil {
		t.Fatal(err)
	}
	if got := paths["memory"]; got != "/sys/fs/cgroup/memory/process_api/abc/c1" {
		t.Errorf("memory: %q", got)
	}
	if got := paths["name=systemd"]; got != "/sys/fs/cgroup/systemd/user.slice/c1" {
		t.Errorf("name=systemd: %q", got)
	}
	if got := paths["cpu"]; got != "/sys/fs/cgroup/cpu,cpuacct/c1" {
		t.Errorf("cpu: %q", got)
	}
	if _, ok := paths["name=foo"]; ok {
		t.Error("joined an unknown named hierarchy")
	}
}

func TestResolvePathsMountRoot(t *testing.T) {
	// Inside a cgroup namespace / bind mount of a sub-cgroup.
	hs := []cgutil.Hierarchy{{Mountpoint: "/sys/fs/cgroup/memory", Root: "/docker/x", Subsystems: []string{"memory"}}}
	paths, _, err := resolvePaths("c1", hs, map[string]string{"memory": "/docker/x/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths["memory"]; got != "/sys/fs/cgroup/memory/sub/c1" {
		t.Errorf("memory: %q", got)
	}
	if _, _, err := resolvePaths("c1", hs, map[string]string{"memory": "/elsewhere"}); err == nil {
		t.Error("want error for a cgroup outside the mounted root")
	}
	if _, _, err := resolvePaths("c1", hs, map[string]string{}); err == nil {
		t.Error("want error when /proc/self/cgroup lacks the hierarchy")
	}
}

func TestResolvePathsV2OnlyNotJoined(t *testing.T) {
	hs := []cgutil.Hierarchy{{Mountpoint: "/sys/fs/cgroup", Root: "/", IsUnified: true}}
	if _, _, err := resolvePaths("/x", hs, nil); err == nil {
		t.Fatal("want error: no v1 hierarchy")
	}
}

func u64(v uint64) *uint64 { return &v }
func i64(v int64) *int64   { return &v }
func u32(v uint32) *uint32 { return &v }

func TestCheckMounted(t *testing.T) {
	paths := map[string]string{"memory": "/m", "devices": "/d", "cpu": "/c", "pids": "/p"}
	ok := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(1 << 20)},
		Pids:    &specs.LinuxPids{Limit: i64(10)},
		Network: &specs.LinuxNetwork{ClassID: u32(0)}, // 0: nothing to lose
		CPU:     &specs.LinuxCPU{Shares: u64(0)},
	}
	if err := checkMounted(ok, paths); err != nil {
		t.Fatalf("unexpected: %v", err)
	}
	for _, tc := range []struct {
		r     *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, "linux.resources.cpu.cpus: cpuset"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(5)}}, "linux.resources.network.classID: net_cls"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 1}}}}, "linux.resources.network.priorities: net_prio"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: func() *uint16 { v := uint16(10); return &v }()}}, "linux.resources.blockIO.weight: blkio"},
	} {
		err := checkMounted(tc.r, paths)
		if !errors.Is(err, cgutil.ErrNotMounted) || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("got %v, want prefix %q and ErrNotMounted", err, tc.field)
		}
	}
	// Optional controllers (runc skips them when not mounted): a warning.
	for _, r := range []*specs.LinuxResources{
		{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}},
		{Rdma: map[string]specs.LinuxRdma{"mlx": {}}},
	} {
		if err := checkMounted(r, paths); err != nil {
			t.Errorf("optional controller not mounted: got %v, want nil (skipped)", err)
		}
	}
	if err := checkMounted(&specs.LinuxResources{Unified: map[string]string{"memory.max": "1"}}, paths); err == nil {
		t.Error("unified on v1: want error")
	}
}

// A process joins the freezer last: one that enters a frozen cgroup
// (exec --ignore-paused) stops there, so by then it must be in every other
// hierarchy, or a crash of rt in between leaves it frozen outside them
// (seen in the exec kill sweep: frozen, outside name=systemd).
func TestFreezerJoinedLast(t *testing.T) {
	if last := subsystemOrder[len(subsystemOrder)-1]; last != "freezer" {
		t.Errorf("last hierarchy joined: %q, want freezer", last)
	}
	seen := map[string]bool{}
	for _, s := range subsystemOrder {
		if seen[s] {
			t.Errorf("%q joined twice", s)
		}
		seen[s] = true
	}
}
