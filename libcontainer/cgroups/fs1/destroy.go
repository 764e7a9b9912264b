package fs1

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// Destroy removes the container's directories (and any sub-cgroups the
// container made) from every hierarchy. A cgroup that still has tasks
// (EBUSY, e.g. processes still exiting) is retried a few times with a
// growing delay (about 300ms in all). Directories already gone are fine.
// The hierarchy roots themselves are never removed.
func (m *Manager) Destroy() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	roots := cgroupMountpoints()
	pending := make(map[string]bool)
	for _, p := range m.paths {
		if p != "" && !roots[filepath.Clean(p)] {
			pending[p] = true
		}
	}
	delay := 10 * time.Millisecond
	var lastErr error
	for attempt := 0; attempt < 6 && len(pending) > 0; attempt++ {
		if attempt > 0 {
			time.Sleep(delay)
			delay *= 2
		}
		for p := range pending {
			err := cgutil.RemoveTree(p)
			if err == nil {
				delete(pending, p)
				continue
			}
			lastErr = err
		}
	}
	if len(pending) == 0 {
		return nil
	}
	left := make([]string, 0, len(pending))
	for p := range pending {
		left = append(left, p)
	}
	sort.Strings(left)
	return fmt.Errorf("remove cgroups %s: %w", strings.Join(left, ", "), lastErr)
}

// cgroupMountpoints is the set of cgroup hierarchy roots (and the tmpfs
// holding them), which Destroy must never remove.
func cgroupMountpoints() map[string]bool {
	res := map[string]bool{cgutil.UnifiedMountpoint: true}
	if hs, err := cgutil.Mounts(); err == nil {
		for _, h := range hs {
			res[filepath.Clean(h.Mountpoint)] = true
		}
	}
	return res
}
