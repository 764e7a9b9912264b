package cgutil

import (
	"sync"

	"golang.org/x/sys/unix"
)

// UnifiedMountpoint is where a pure cgroup v2 host mounts its hierarchy,
// and where a v1/hybrid host has its tmpfs of v1 mounts.
const UnifiedMountpoint = "/sys/fs/cgroup"

var (
	unifiedOnce sync.Once
	unified     bool
)

// IsUnifiedMode reports whether the host runs cgroup v2 only (cgroup2
// mounted at /sys/fs/cgroup). Hybrid hosts (v1 controllers plus an empty
// cgroup2 at /sys/fs/cgroup/unified) report false.
func IsUnifiedMode() bool {
	unifiedOnce.Do(func() {
		var st unix.Statfs_t
		if err := unix.Statfs(UnifiedMountpoint, &st); err == nil {
			unified = st.Type == unix.CGROUP2_SUPER_MAGIC
		}
	})
	return unified
}
