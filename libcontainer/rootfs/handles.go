package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// root is an O_PATH handle of the rootfs directory and its real path, used
// to resolve and create every mount destination inside it.
type root struct {
	dir  *os.File
	path string // real path of dir, as /proc/self/fd shows it
}

// openRoot opens path (a directory) as a root handle.
func openRoot(path string) (*root, error) {
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs: %w", err)
	}
	real, err := os.Readlink(procFd(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("rootfs %q: %w", path, err)
	}
	return &root{dir: f, path: real}, nil
}

func (r *root) Close() error { return r.dir.Close() }

// verify checks that the handle f lies inside the root.
func (r *root) verify(f *os.File, dest string) error {
	// What /proc/self/fd says is trusted only from a procfs: after
	// pivot_root /proc is the container's, and without a /proc mount the
	// image's own directory, whose fake fd links would send the mounts
	// made onto procFd(f) elsewhere (a read-only or masked path left
	// unprotected; CVE-2025-52881 class).
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/self/fd", &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%q: %w", dest, ErrProcNotProcfs)
	}
	if r.path == "/" {
		// Everything is inside "/" (after pivot_root: Finalize's root):
		// no need to ask /proc where f is.
		return nil
	}
	p, err := os.Readlink(procFd(f))
	if err != nil {
		return fmt.Errorf("%q: %w", dest, err)
	}
	if p == r.path || strings.HasPrefix(p, r.path+"/") {
		return nil
	}
	return fmt.Errorf("%q resolved to %q: %w", dest, p, ErrOutsideRootfs)
}

// open resolves dest inside the root (symlinks and ".." stay in it) and
// returns a verified O_PATH handle of what it names.
func (r *root) open(dest string) (*os.File, error) {
	f, err := openInRoot(r, dest)
	if err != nil {
		return nil, err
	}
	if err := r.verify(f, dest); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// mkdirAll creates the directory dest (and its parents) inside the root and
// returns a verified O_PATH handle of it.
func (r *root) mkdirAll(dest string) (*os.File, error) {
	if f, ok := mkdirLastInRoot(r, dest); ok {
		if err := r.verify(f, dest); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	f, err := securejoin.MkdirAllHandle(r.dir, dest, 0o755)
	if err != nil && (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ENOENT)) {
		// A symlink on the way points at something missing (e.g. an
		// absolute link to a host path). As runc does, resolve it as if
		// the rootfs were "/" and create the directory it names there.
		var resolved string
		if resolved, err = securejoin.SecureJoin(r.path, dest); err == nil {
			rel := "/" + strings.TrimPrefix(strings.TrimPrefix(resolved, r.path), "/")
			f, err = securejoin.MkdirAllHandle(r.dir, rel, 0o755)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mkdir %q in rootfs: %w", dest, err)
	}
	if err := r.verify(f, dest); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// target returns a verified O_PATH handle of dest, creating it if missing:
// a directory, or an empty file when isFile.
func (r *root) target(dest string, isFile bool) (*os.File, error) {
	f, err := r.open(dest)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return f, err
	}
	if !isFile {
		return r.mkdirAll(dest)
	}
	if err := r.createFile(dest, 0o644); err != nil {
		return nil, err
	}
	f, err = r.open(dest)
	if errors.Is(err, os.ErrNotExist) {
		// dest is a dangling symlink: as runc, resolve it as if the
		// rootfs were "/" and create the file it names there.
		resolved, jerr := securejoin.SecureJoin(r.path, dest)
		if jerr != nil {
			return nil, jerr
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(resolved, r.path), "/")
		if err := r.createFile(rel, 0o644); err != nil {
			return nil, err
		}
		f, err = r.open(dest)
	}
	return f, err
}

// createFile creates an empty file dest inside the root (its parents too).
// An existing file is left alone; the last component is never followed.
func (r *root) createFile(dest string, mode uint32) error {
	parent, err := r.mkdirAll(filepath.Dir(dest))
	if err != nil {
		return err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(dest),
		unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, mode)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %q in rootfs: %w", dest, err)
	}
	return unix.Close(fd)
}

// parent returns a verified O_PATH handle of dest's parent directory
// (created if missing) and dest's last component.
func (r *root) parent(dest string) (*os.File, string, error) {
	dest = filepath.Clean("/" + dest)
	if dest == "/" {
		return nil, "", fmt.Errorf("%q: no last component: %w", dest, os.ErrInvalid)
	}
	p, err := r.mkdirAll(filepath.Dir(dest))
	if err != nil {
		return nil, "", err
	}
	return p, filepath.Base(dest), nil
}
