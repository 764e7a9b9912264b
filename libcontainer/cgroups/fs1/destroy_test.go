package fs1

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDestroyNeverRemovesMountRoot: a path that is the root of a mount (as
// a hierarchy's root is) is left with everything under it, through a
// symlink too; a plain directory is removed with its sub-directories.
func TestDestroyNeverRemovesMountRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: mounting a tmpfs needs root (CAP_SYS_ADMIN)")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "hierarchy")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(root, unix.MNT_DETACH)
	other := filepath.Join(root, "another-container")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine")
	if err := os.MkdirAll(filepath.Join(mine, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if root, known := isMountRoot(root); !root || !known {
		t.Fatalf("isMountRoot(a tmpfs's root) = %v, %v", root, known)
	}
	if root, known := isMountRoot(mine); root || !known {
		t.Fatalf("isMountRoot(a plain directory) = %v, %v", root, known)
	}
	m := &Manager{paths: map[string]string{"memory": root, "cpu": link, "pids": mine}}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a mount root's content was removed: %v", err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Errorf("%s not removed: %v", mine, err)
	}
}
