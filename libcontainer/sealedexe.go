package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// sealedExe returns an O_PATH fd of rt's own binary on a detached,
// read-only bind mount (open_tree + mount_setattr). rt re-executes itself
// as the container's init through /proc/self/fd/N of this fd, so the
// init's /proc/<pid>/exe is that read-only mount: a container process that
// reopens it for writing gets EROFS and cannot overwrite the host binary
// (CVE-2019-5736). No copy of the binary is made, and the mount vanishes
// with the last fd that refers to it.
func sealedExe() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seal /proc/self/exe: open_tree: %w", err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("seal /proc/self/exe: mount_setattr: %w", err)
	}
	return os.NewFile(uintptr(fd), "rt-exe"), nil
}
