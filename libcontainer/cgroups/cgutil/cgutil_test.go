package cgutil

import (
	"reflect"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

func TestParseProcCgroup(t *testing.T) {
	in := "9:name=systemd:/\n2:cpu,cpuacct:/a\n4:memory:/process_api/x\n0::/u\n"
	got, err := ParseProcCgroup(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name=systemd": "/", "cpu": "/a", "cpuacct": "/a", "memory": "/process_api/x", "": "/u"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParseProcCgroup(strings.NewReader("garbage\n")); err == nil {
		t.Fatal("want error for a line without colons")
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"/foo/bar":     "/foo/bar",
		"/foo/../bar/": "/bar",
		"/../../x":     "/x",
		"foo/bar":      "foo/bar",
		"../../x":      "x",
		"./a/../b":     "b",
		".":            "",
		"..":           "",
		"/":            "/",
	} {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("0-2,5,1,7-8\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 5, 7, 8}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "a", "1-", "-1", "3-1", "1,,2", "1 -2", "99999999"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q): want error", bad)
		}
	}
}

func TestHierarchiesFromMountinfo(t *testing.T) {
	known := map[string]bool{"cpu": true, "cpuacct": true, "memory": true, "devices": true}
	infos := []*mountinfo.Info{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", FSType: "cgroup", VFSOptions: "rw,cpu,cpuacct"},
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", FSType: "cgroup", VFSOptions: "rw,xattr,name=systemd"},
		{Mountpoint: "/other/memory", Root: "/sub", FSType: "cgroup", VFSOptions: "rw,memory"},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", FSType: "cgroup", VFSOptions: "rw,memory"},
		{Mountpoint: "/again/memory", Root: "/", FSType: "cgroup", VFSOptions: "rw,memory"},
		{Mountpoint: "/sys/fs/cgroup/unified", Root: "/", FSType: "cgroup2", VFSOptions: "rw,nsdelegate"},
		{Mountpoint: "/x", Root: "/", FSType: "cgroup", VFSOptions: "rw,none"},
	}
	got := hierarchiesFromMountinfo(infos, known)
	want := []Hierarchy{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Subsystems: []string{"name=systemd"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Subsystems: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/unified", Root: "/", IsUnified: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestWriteFileErrorNamesPath(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(dir, "missing", "1")
	if err == nil || !strings.Contains(err.Error(), "write "+dir+"/missing: ") {
		t.Fatalf("got %v", err)
	}
}

func TestPidsMaxValue(t *testing.T) {
	for in, want := range map[int64]string{-1: "max", -5: "max", 0: "1", 1: "1", 42: "42"} {
		if got := PidsMaxValue(in); got != want {
			t.Errorf("PidsMaxValue(%d) = %q, want %q", in, got, want)
		}
	}
}
