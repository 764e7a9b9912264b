package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// procBindAllowed are the files under /proc that may be bind-mounted over
// (what lxcfs emulates), as in runc.
var procBindAllowed = map[string]bool{
	"/proc/cpuinfo": true, "/proc/diskstats": true, "/proc/meminfo": true,
	"/proc/stat": true, "/proc/swaps": true, "/proc/uptime": true,
	"/proc/loadavg": true, "/proc/slabinfo": true,
	"/proc/pressure/cpu": true, "/proc/pressure/io": true, "/proc/pressure/memory": true,
	"/proc/sys/kernel/ns_last_pid": true, "/proc/net/dev": true,
}

// checkProcMount allows on /proc only a procfs (or a bind of a procfs), and
// inside /proc only binds over the files lxcfs emulates.
func checkProcMount(m *configs.Mount) error {
	dest := m.Destination
	switch {
	case dest == "/proc":
		if m.Device == "proc" && !m.IsBind() {
			return nil
		}
		if m.IsBind() {
			var st unix.Statfs_t
			if err := unix.Statfs(m.Source, &st); err == nil && st.Type == unix.PROC_SUPER_MAGIC {
				return nil
			}
		}
		return fmt.Errorf("%q is not a procfs: %w", m.Source, ErrProcMount)
	case strings.HasPrefix(dest, "/proc/"):
		if procBindAllowed[dest] {
			return nil
		}
		return fmt.Errorf("%q is inside /proc: %w", dest, ErrProcMount)
	}
	return nil
}

// requireRealDir refuses a destination whose last component exists and is
// not a directory (a symlink especially). A missing one is fine: it will be
// created as a directory.
func requireRealDir(r *root, dest string) error {
	parent, err := r.open(filepath.Dir(dest))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	var st unix.Stat_t
	err = unix.Fstatat(int(parent.Fd()), filepath.Base(dest), &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %q: %w", dest, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%q: %w", dest, ErrNotDirectory)
	}
	return nil
}
