package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyUp copies the tree of the directory src (an O_RDONLY fd) into the
// directory dst (any fd), keeping modes, owners and file types, never
// following symlinks. The root of dst gets src's mode and owner.
func copyUp(src, dst *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return err
	}
	d, err := os.OpenFile(procFd(dst), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Fchown(int(d.Fd()), int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	if err := unix.Fchmod(int(d.Fd()), st.Mode&0o7777); err != nil {
		return err
	}
	return copyDir(src, d)
}

// copyDir copies the entries of src into dst, recursively.
func copyDir(src, dst *os.File) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %q: %w", name, err)
		}
		if err := copyEntry(sfd, dfd, name, &st); err != nil {
			return fmt.Errorf("copy %q: %w", name, err)
		}
		if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("chown %q: %w", name, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
				return fmt.Errorf("chmod %q: %w", name, err)
			}
		}
	}
	return nil
}

// copyEntry creates name in dfd as a copy of name in sfd.
func copyEntry(sfd, dfd int, name string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return err
		}
		s, err := openAt(sfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := openAt(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer d.Close()
		return copyDir(s, d)
	case unix.S_IFLNK:
		target, err := readlinkAt(sfd, name)
		if err != nil {
			return err
		}
		return unix.Symlinkat(target, dfd, name)
	case unix.S_IFREG:
		s, err := openAt(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer s.Close()
		fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		d := os.NewFile(uintptr(fd), name)
		defer d.Close()
		_, err = io.Copy(d, s)
		return err
	default: // devices, fifos, sockets
		return unix.Mknodat(dfd, name, st.Mode, int(st.Rdev))
	}
}

func openAt(dirfd int, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
