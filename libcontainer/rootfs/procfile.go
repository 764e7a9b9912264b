package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// procRootIno is the inode number of a procfs's root directory.
const procRootIno = 1

// OpenProcWrite opens /proc/<name> for writing such that the file is the
// procfs's own: /proc must be the root of a procfs mount, and the path
// below it may cross no mount (openat2 with RESOLVE_NO_XDEV and
// RESOLVE_NO_MAGICLINKS). Checking that the opened file lies on some
// procfs is not enough: a procfs file mounted over the target, by a
// container with CAP_SYS_ADMIN or through a shared mount
// (CVE-2025-52881), passes that check and takes a root write meant for a
// sysctl, /proc/sysrq-trigger say. The C stage opens the AppArmor
// attribute the same way (nsenter/plan.c, proc_open_write). Before Linux
// 5.6 (no openat2) the path is opened as it is and only its filesystem is
// checked.
func OpenProcWrite(name string) (*os.File, error) {
	dir, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc: %w", err)
	}
	defer unix.Close(dir)
	var sfs unix.Statfs_t
	var st unix.Stat_t
	if unix.Fstatfs(dir, &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC || unix.Fstat(dir, &st) != nil || st.Ino != procRootIno {
		return nil, ErrProcNotProcRoot
	}
	fd, err := unix.Openat2(dir, name, &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case errors.Is(err, unix.EXDEV):
		return nil, fmt.Errorf("/proc/%s: %w", name, ErrProcOvermounted)
	case errors.Is(err, unix.ENOSYS):
		fd, err = unix.Openat(dir, name, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err == nil && (unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC) {
			unix.Close(fd)
			return nil, fmt.Errorf("/proc/%s: %w", name, ErrProcOvermounted)
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), "/proc/"+name), nil
}
