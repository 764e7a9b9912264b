package fs2

import "testing"

func TestContainerDir(t *testing.T) {
	for _, tc := range []struct{ path, id, own, want string }{
		{"/a/b", "x", "", "/sys/fs/cgroup/a/b"},
		{"/a/../../b", "x", "", "/sys/fs/cgroup/b"},
		{"a/b", "x", "/user.slice/s1", "/sys/fs/cgroup/user.slice/s1/a/b"},
		{"../../a", "x", "/", "/sys/fs/cgroup/a"},
		{"", "ctr1", "/", "/sys/fs/cgroup/ctr1"},
		{"", "ctr1", "/sub", "/sys/fs/cgroup/sub/ctr1"},
	} {
		got, err := containerDir("/sys/fs/cgroup", tc.path, tc.id, tc.own)
		if err != nil || got != tc.want {
			t.Errorf("containerDir(%q, %q, %q) = %q, %v; want %q", tc.path, tc.id, tc.own, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ path, id, own string }{
		{"/", "x", ""},
		{"", "a/b", "/"},
		{"", "", "/"},
		{"rel", "x", "/../outside"},
	} {
		if got, err := containerDir("/sys/fs/cgroup", tc.path, tc.id, tc.own); err == nil {
			t.Errorf("containerDir(%q, %q, %q) = %q, want an error", tc.path, tc.id, tc.own, got)
		}
	}
}

func TestAncestors(t *testing.T) {
	got := ancestors("/sys/fs/cgroup", "/sys/fs/cgroup/a/b/c")
	want := []string{"/sys/fs/cgroup", "/sys/fs/cgroup/a", "/sys/fs/cgroup/a/b"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if got := ancestors("/sys/fs/cgroup", "/sys/fs/cgroup/a"); len(got) != 1 || got[0] != "/sys/fs/cgroup" {
		t.Fatalf("got %v", got)
	}
}

func TestLoad(t *testing.T) {
	m, err := Load(map[string]string{"": "/sys/fs/cgroup/x/y"})
	if err != nil || m.Path() != "/sys/fs/cgroup/x/y" {
		t.Fatalf("got %v, %v", m, err)
	}
	if p := m.Paths(); len(p) != 1 || p[""] != "/sys/fs/cgroup/x/y" {
		t.Fatalf("Paths() = %v", p)
	}
	for _, bad := range []map[string]string{
		{"": "relative"},
		{"": "/elsewhere/x"},
		{"": "/sys/fs/cgroup/x", "memory": "/sys/fs/cgroup/memory/x"},
		{"memory": "/sys/fs/cgroup/memory/x"},
	} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%v): want an error", bad)
		}
	}
}
