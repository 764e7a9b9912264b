package rootfs

import (
	"errors"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// The set-up child resolves every mount target inside the rootfs. The
// kernel's openat2(RESOLVE_IN_ROOT) does it race-free in one call (a rename
// or mount that races a ".." makes it fail with EAGAIN instead of escaping);
// securejoin adds a procfs cross-check and its own bookkeeping to each
// lookup (six system calls where one does). rt checks the handle it mounts
// onto through a verified /proc anyway (root.verify), so these helpers call
// openat2 directly, and leave to securejoin only the kernels without openat2
// and the uncommon cases (several missing directories, a symlink on the way).

// inRootRetries bounds the EAGAIN retries of a RESOLVE_IN_ROOT lookup (as
// securejoin does).
const inRootRetries = 128

// openat2InRoot opens path under the directory dirfd, as if dirfd were "/":
// symlinks and ".." stay inside it, magic links are refused.
func openat2InRoot(dirfd int, path string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	var err error
	for i := 0; i < inRootRetries; i++ {
		var fd int
		fd, err = unix.Openat2(dirfd, path, &how)
		if err != unix.EAGAIN && err != unix.EINTR {
			return fd, err
		}
	}
	return -1, err
}

// errNoOpenat2 reports a kernel (or seccomp profile) without openat2.
func errNoOpenat2(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.E2BIG)
}

// openInRoot is securejoin.OpenatInRoot in one openat2 call: an O_PATH
// handle of what dest names inside the root, following symlinks in it.
func openInRoot(r *root, dest string) (*os.File, error) {
	fd, err := openat2InRoot(int(r.dir.Fd()), dest, unix.O_PATH)
	if err != nil {
		if errNoOpenat2(err) {
			return securejoin.OpenatInRoot(r.dir, dest)
		}
		return nil, &os.PathError{Op: "openat2", Path: dest, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(r.path, dest)), nil
}

// mkdirLastInRoot creates dest when its parent exists and only its last
// component is missing, the common case of a mount target (a directory of
// a tmpfs just mounted). It returns the new directory's O_PATH handle, or
// ok false when the case is not this one (the caller then takes securejoin's
// general path): a missing parent, an existing last component (a symlink,
// say), or a kernel without openat2.
func mkdirLastInRoot(r *root, dest string) (f *os.File, ok bool) {
	dest = filepath.Clean("/" + dest)
	if dest == "/" {
		return nil, false
	}
	pfd, err := openat2InRoot(int(r.dir.Fd()), filepath.Dir(dest), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, false
	}
	defer unix.Close(pfd)
	name := filepath.Base(dest)
	if err := unix.Mkdirat(pfd, name, 0o755); err != nil {
		return nil, false
	}
	// The directory just made, never a symlink put there since, nor
	// anything mounted on it.
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV,
	}
	fd, err := unix.Openat2(pfd, name, &how)
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), filepath.Join(r.path, dest)), true
}
