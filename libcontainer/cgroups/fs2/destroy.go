package fs2

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Destroy removes the cgroup and every cgroup below it, deepest first.
// A cgroup that still has processes (EBUSY, e.g. ones still exiting) is
// retried a few times with a growing delay (about 300ms in all). A
// cgroup already gone is fine; the cgroup2 root is never removed.
func (m *Manager) Destroy() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if filepath.Clean(m.dir) == filepath.Clean(m.mount) {
		return fmt.Errorf("refusing to remove the cgroup2 root %s", m.dir)
	}
	delay := 10 * time.Millisecond
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 {
			time.Sleep(delay)
			delay *= 2
		}
		if err = removeCgroupTree(m.dir); err == nil {
			return nil
		}
	}
	return err
}

// removeCgroupTree removes dir and every cgroup below it, deepest first
// (cgroupfs directories hold only interface files, which rmdir ignores).
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, unwrapPath(err))
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	return nil
}
