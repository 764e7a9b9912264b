package fs2

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
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
		if err = cgutil.RemoveTree(m.dir); err == nil {
			return nil
		}
	}
	return err
}
