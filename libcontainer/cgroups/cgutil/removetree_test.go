package cgutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// scratchCgroup makes a cgroup of its own in a hierarchy this test may
// write (the v1 pids one, else a cgroup2 mount: Mounts finds them), or
// skips saying why.
func scratchCgroup(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: needs root to make cgroups")
	}
	hs, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, h := range hs {
		if h.Root == "/" && slices.Contains(h.Subsystems, "pids") {
			dirs = append([]string{h.Mountpoint}, dirs...)
		} else if h.Root == "/" && h.IsUnified {
			dirs = append(dirs, h.Mountpoint)
		}
	}
	for _, h := range dirs {
		dir := filepath.Join(h, fmt.Sprintf("rt-removetree-%d", os.Getpid()))
		if err := os.Mkdir(dir, 0o755); err == nil {
			t.Cleanup(func() { RemoveTree(dir) })
			return dir
		}
	}
	t.Skip("SKIP: no cgroup hierarchy (v1 pids or cgroup2) where a cgroup can be made")
	return ""
}

// RemoveTree removes a cgroup and the cgroups below it; a missing one is
// not an error; one with a task stays, with an error.
func TestRemoveTree(t *testing.T) {
	dir := scratchCgroup(t)
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Fatalf("RemoveTree with cgroups below: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Errorf("RemoveTree of a missing cgroup: %v", err)
	}

	dir = scratchCgroup(t)
	sub := filepath.Join(dir, "busy")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := os.WriteFile(filepath.Join(sub, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTree(dir); err == nil || !errors.Is(err, unix.EBUSY) {
		t.Errorf("RemoveTree with a task below = %v, want EBUSY", err)
	}
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("the busy cgroup went: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := RemoveTree(dir); err != nil {
		t.Errorf("RemoveTree once the task is gone: %v", err)
	}
}
