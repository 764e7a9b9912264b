package rootfs

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"

	"fmt"

	"github.com/moby/sys/mountinfo"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// PivotRoot makes cfg.Rootfs the root: pivot_root(".", ".") with the old
// root detached, or, with cfg.NoPivot, MS_MOVE of the rootfs onto "/" and
// chroot. The working directory ends as "/". Then cfg.RootPropagation, if
// set (and not unbindable: see Finalize), is applied to the new "/".
func PivotRoot(cfg *configs.Config) error {
	var err error
	if cfg.NoPivot {
		err = moveRoot(cfg.Rootfs)
	} else {
		err = pivotRoot(cfg.Rootfs, mayBeShared(cfg))
	}
	if err != nil {
		return err
	}
	// Unbindable waits for Finalize: read-only paths are bind mounts of
	// the root's own subtrees, which an unbindable root would refuse.
	if p := cfg.RootPropagation; p != 0 && p&unix.MS_UNBINDABLE == 0 {
		if err := mount("", "/", "", p, ""); err != nil {
			return fmt.Errorf("rootfs propagation: %w", err)
		}
	}
	return nil
}

// mayBeShared reports whether the rootfs' mount may be shared when
// PivotRoot runs: "/" was given a propagation that leaves shared mounts, or
// a configured mount asks for shared propagation.
func mayBeShared(cfg *configs.Config) bool {
	if !noneShared(rootPropagation(cfg)) {
		return true
	}
	for _, m := range cfg.Mounts {
		for _, p := range m.PropagationFlags {
			if p&unix.MS_SHARED != 0 {
				return true
			}
		}
	}
	return false
}

// pivotRoot is the pivot_root(".", ".") trick: the old root ends stacked
// under the new one, and is detached from there.
func pivotRoot(rootfs string, checkShared bool) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %q: %w", rootfs, err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir rootfs: %w", err)
	}
	// pivot_root refuses a shared new root (it is also put_old here);
	// without checkShared nothing can have made it shared (mayBeShared).
	if checkShared {
		if _, shared, err := mountOf(rootfs); err == nil && shared {
			if err := mount("", ".", "", unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("make rootfs private: %w", err)
			}
		}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %q: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir old root: %w", err)
	}
	// Unmounting the old root must not propagate to the host.
	if err := mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("old root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot moves the rootfs mount onto "/" and chroots into it (for
// --no-pivot, e.g. on a ramfs root where pivot_root fails). The host's other
// mounts stay reachable under the old root's mount tree, as in runc before
// it started unmounting them.
func moveRoot(rootfs string) error {
	if err := detachHostMounts(rootfs); err != nil {
		return err
	}
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir rootfs %q: %w", rootfs, err)
	}
	if err := mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// detachHostMounts unmounts, in the container's mount namespace, every
// mount that is neither the rootfs, below it, nor one of its parents:
// without pivot_root they would stay reachable to a process that escapes
// the chroot (as runc's --no-pivot does).
func detachHostMounts(rootfs string) error {
	real, err := filepath.EvalSymlinks(rootfs)
	if err != nil {
		return fmt.Errorf("resolve rootfs %q: %w", rootfs, err)
	}
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	for _, m := range mounts {
		mp := m.Mountpoint
		inside := mp == real || strings.HasPrefix(mp, real+"/")
		parent := mp == "/" || strings.HasPrefix(real, mp+"/")
		if inside || parent {
			continue
		}
		// Slave first, so the unmount does not propagate to the host
		// (EINVAL, ENOENT: not a mount point any more, as below).
		if err := unix.Mount("", mp, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("make %s a slave before unmounting it: %w", mp, err)
		}
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s before moving the rootfs: %w", mp, err)
		}
	}
	return nil
}
