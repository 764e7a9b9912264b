package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ptySlaveMajorFirst and ptySlaveMajorLast bound the char majors of Unix98
// pty slaves (136..143).
const ptySlaveMajorFirst, ptySlaveMajorLast = 136, 143

// MountConsoleFd bind-mounts the pty slave open as fd (through
// /proc/self/fd/N, so nothing is looked up by name) onto /dev/console of
// the current root, creating that file if missing. fd must be a pty slave
// on a devpts filesystem. A /dev/console that is a symlink or another kind
// of file is replaced by a regular file first.
func MountConsoleFd(fd int) error {
	if err := checkPtySlave(fd); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	r, err := openRoot("/")
	if err != nil {
		return err
	}
	defer r.Close()
	dev, err := r.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	dfd := int(dev.Fd())
	var st unix.Stat_t
	err = unix.Fstatat(dfd, "console", &st, unix.AT_SYMLINK_NOFOLLOW)
	create := false
	switch {
	case errors.Is(err, unix.ENOENT):
		create = true
	case err != nil:
		return fmt.Errorf("console: stat /dev/console: %w", err)
	case st.Mode&unix.S_IFMT == unix.S_IFREG || st.Mode&unix.S_IFMT == unix.S_IFCHR:
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return fmt.Errorf("console: /dev/console is a directory")
	default:
		if err := unix.Unlinkat(dfd, "console", 0); err != nil {
			return fmt.Errorf("console: remove /dev/console: %w", err)
		}
		create = true
	}
	if create {
		cfd, err := unix.Openat(dfd, "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
		if err != nil {
			return fmt.Errorf("console: create /dev/console: %w", err)
		}
		unix.Close(cfd)
	}
	tfd, err := unix.Openat(dfd, "console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("console: open /dev/console: %w", err)
	}
	target := os.NewFile(uintptr(tfd), "/dev/console")
	defer target.Close()
	err = bindFd(fd, target, false, false)
	if errors.Is(err, errNoMountAPI) {
		err = mount(fmt.Sprintf("/proc/self/fd/%d", fd), procFd(target), "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// checkPtySlave checks that fd is a char device of a pty slave major on a
// devpts filesystem.
func checkPtySlave(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	major := unix.Major(st.Rdev)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || major < ptySlaveMajorFirst || major > ptySlaveMajorLast {
		return fmt.Errorf("fd %d (mode %#o, major %d): %w", fd, st.Mode, major, ErrNotPty)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return err
	}
	if sfs.Type != unix.DEVPTS_SUPER_MAGIC {
		return fmt.Errorf("fd %d (fs %#x): %w", fd, sfs.Type, ErrNotPty)
	}
	return nil
}
