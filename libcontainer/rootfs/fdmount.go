package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// After pivot_root the only /proc is the container's, and a mount over its
// /proc/<pid>/fd (through a shared mount, as in CVE-2025-52881) would send
// a mount made onto /proc/self/fd/N to whatever that directory's N is: a
// masked path left unmasked, a read-only path left writable. So what
// Finalize and the console mount do, they do by file descriptor, with the
// mount API (open_tree, move_mount, mount_setattr): no path through /proc.
// Where the kernel lacks it (ENOSYS: before Linux 5.2, mount_setattr 5.12),
// the callers fall back to mount(2) on procFd paths.

// errNoMountAPI: the kernel has no open_tree/move_mount/mount_setattr.
var errNoMountAPI = errors.New("no mount API")

// bindFd bind-mounts what the fd src holds onto what dst holds
// (recursively when rec), read-only when ro: a clone of src's mount
// (open_tree), made read-only while detached (mount_setattr, its top mount
// only, as a MS_REMOUNT|MS_BIND would), then attached at dst (move_mount).
func bindFd(src int, dst *os.File, rec, ro bool) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(src, "", flags)
	if errors.Is(err, unix.ENOSYS) {
		return errNoMountAPI
	}
	if err != nil {
		return fmt.Errorf("open_tree of the source of %s: %w", dst.Name(), err)
	}
	defer unix.Close(tree)
	if ro {
		if err := setReadonlyFd(tree); err != nil {
			return err
		}
	}
	if err := unix.MoveMount(tree, "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount onto %s: %w", dst.Name(), err)
	}
	return nil
}

// setReadonlyFd makes the mount that fd is the root of read-only (that
// mount only; its other flags stay).
func setReadonlyFd(fd int) error {
	err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if errors.Is(err, unix.ENOSYS) {
		return errNoMountAPI
	}
	if err != nil {
		return fmt.Errorf("mount_setattr read-only: %w", err)
	}
	return nil
}
