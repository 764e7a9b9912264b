package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Finalize runs after PivotRoot: it makes cfg.ReadonlyPaths read-only,
// masks cfg.MaskedPaths, remounts a read-only /dev (left writable by
// PrepareMounts to create devices) read-only, and makes "/" read-only when
// cfg.Readonly. Paths are resolved inside the new root; missing ones are
// skipped.
func Finalize(cfg *configs.Config) error {
	r, err := openRoot("/")
	if err != nil {
		return err
	}
	defer r.Close()
	for _, p := range cfg.ReadonlyPaths {
		if err := readonlyPath(r, p); err != nil {
			return fmt.Errorf("readonly path %q: %w", p, err)
		}
	}
	if len(cfg.MaskedPaths) > 0 {
		if err := maskPaths(r, cfg.MaskedPaths); err != nil {
			return err
		}
	}
	for _, m := range cfg.Mounts {
		if m.Destination == "/dev" && m.Flags&unix.MS_RDONLY != 0 && !m.IsBind() {
			if err := remountReadonly(r, "/dev", m.Flags, m.ClearedFlags, false); err != nil {
				return fmt.Errorf("/dev read-only: %w", err)
			}
		}
	}
	if cfg.Readonly {
		if err := remount("/", unix.MS_RDONLY, 0, true); err != nil {
			return fmt.Errorf("rootfs read-only: %w", err)
		}
	}
	if p := cfg.RootPropagation; p&unix.MS_UNBINDABLE != 0 {
		if err := mount("", "/", "", p, ""); err != nil {
			return fmt.Errorf("rootfs propagation: %w", err)
		}
	}
	return nil
}

func remountReadonly(r *root, p string, flags, cleared uintptr, bind bool) error {
	t, err := r.open(p)
	if err != nil {
		return err
	}
	defer t.Close()
	if !isMountRoot(t) {
		return fmt.Errorf("%q is not a mount's root", p)
	}
	if err := setReadonlyFd(int(t.Fd())); !errors.Is(err, errNoMountAPI) {
		return err
	}
	return remount(procFd(t), (flags|unix.MS_RDONLY)&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT), cleared, bind)
}

// isMountRoot reports whether f is the root of a mount (what a remount by
// f's fd changes); unknown (no STATX_ATTR_MOUNT_ROOT before Linux 5.8)
// counts as yes.
func isMountRoot(f *os.File) bool {
	var stx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, 0, &stx); err != nil || stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return true
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// readonlyPath bind-mounts p onto itself (recursively) and remounts it
// read-only, keeping its nosuid/nodev/noexec.
func readonlyPath(r *root, p string) error {
	t, err := r.open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = bindFd(int(t.Fd()), t, true, true)
	t.Close()
	if !errors.Is(err, errNoMountAPI) {
		return err
	}
	// Before Linux 5.12: through /proc/self/fd.
	if t, err = r.open(p); err != nil {
		return err
	}
	err = mount(procFd(t), procFd(t), "", unix.MS_BIND|unix.MS_REC, "")
	t.Close()
	if err != nil {
		return err
	}
	t, err = r.open(p)
	if err != nil {
		return err
	}
	defer t.Close()
	cur, err := mountFlagsOf(procFd(t))
	if err != nil {
		return err
	}
	keep := cur & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	return remount(procFd(t), keep|unix.MS_RDONLY, 0, true)
}

// maskPaths hides each path (each once, however often it is listed): a
// directory under an empty read-only tmpfs, one tmpfs shared by all of
// them as runc 1.5 has it, anything else under the container's /dev/null,
// which must really be the null device (CVE-2025-31133).
func maskPaths(r *root, paths []string) error {
	var devNull *os.File
	tmpfs := &maskTmpfs{fd: -1}
	defer func() {
		if devNull != nil {
			devNull.Close()
		}
		tmpfs.close()
	}()
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[filepath.Clean("/"+p)] {
			continue
		}
		seen[filepath.Clean("/"+p)] = true
		t, err := r.open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("masked path %q: %w", p, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(t.Fd()), &st); err != nil {
			t.Close()
			return fmt.Errorf("masked path %q: %w", p, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = tmpfs.mountOn(t)
		} else {
			if devNull == nil {
				devNull, err = openDevNull(r)
			}
			if err == nil {
				if err = bindFd(int(devNull.Fd()), t, false, false); errors.Is(err, errNoMountAPI) {
					err = mount(procFd(devNull), procFd(t), "", unix.MS_BIND, "")
				}
			}
		}
		t.Close()
		if err != nil {
			return fmt.Errorf("masked path %q: %w", p, err)
		}
	}
	return nil
}

// maskTmpfs is the empty read-only tmpfs of the masked directories: made
// once (fsopen/fsmount), attached to the first and cloned onto the others.
// Where the kernel lacks the mount API, each gets a tmpfs of its own.
type maskTmpfs struct {
	fd     int // the tmpfs mount, once made
	oldAPI bool
}

func (m *maskTmpfs) mountOn(dir *os.File) error {
	if m.oldAPI {
		return mount("tmpfs", procFd(dir), "tmpfs", unix.MS_RDONLY, "")
	}
	if m.fd < 0 {
		fd, err := newReadonlyTmpfs()
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			m.oldAPI = true
			return m.mountOn(dir)
		}
		if err != nil {
			return err
		}
		m.fd = fd
		return moveMount(fd, dir)
	}
	clone, err := unix.OpenTree(m.fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree of the masking tmpfs: %w", err)
	}
	defer unix.Close(clone)
	return moveMount(clone, dir)
}

func (m *maskTmpfs) close() {
	if m.fd >= 0 {
		unix.Close(m.fd)
	}
}

func newReadonlyTmpfs() (int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetFlag(fsfd, "ro"); err != nil {
		return -1, fmt.Errorf("fsconfig ro: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("fsconfig create tmpfs: %w", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return fd, nil
}

func moveMount(from int, dir *os.File) error {
	err := unix.MoveMount(from, "", int(dir.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("move_mount tmpfs: %w", err)
	}
	return nil
}

// openDevNull opens the root's /dev/null and checks it is the 1:3 char
// device, so a symlink or a bind mount put there cannot get bound instead.
func openDevNull(r *root) (*os.File, error) {
	f, err := openInRoot(r, "/dev/null")
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, ErrNotDevNull
	}
	return f, nil
}
