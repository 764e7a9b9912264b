package fs1

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAddPidWritesOnly: AddPid writes the pid to each existing
// directory's cgroup.procs and never makes a missing cgroup (Apply would:
// an exec must not land in an empty cgroup without the container's
// limits).
func TestAddPidWritesOnly(t *testing.T) {
	root := t.TempDir()
	paths := map[string]string{}
	for _, s := range []string{"cpu", "memory", "pids"} {
		dir := filepath.Join(root, s, "ctr")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("old-content"), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[s] = dir
	}
	if err := AddPid(paths, 4242); err != nil {
		t.Fatal(err)
	}
	for s, dir := range paths {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || string(b) != "4242" {
			t.Errorf("%s: cgroup.procs = %q, %v; want 4242", s, b, err)
		}
	}
	missing := filepath.Join(root, "blkio", "ctr")
	paths["blkio"] = missing
	err := AddPid(paths, 4242)
	if !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), missing+"/cgroup.procs") {
		t.Errorf("missing cgroup: err = %v, want ENOENT naming %s/cgroup.procs", err, missing)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("AddPid made the missing cgroup %s (stat: %v)", missing, err)
	}
	if err := AddPid(map[string]string{"pids": "relative/dir"}, 1); err == nil || !strings.Contains(err.Error(), "not absolute") {
		t.Errorf("relative path: err = %v", err)
	}
}
