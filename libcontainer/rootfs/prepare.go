package rootfs

import (
	"errors"
	"fmt"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"os"
	"path/filepath"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// PrepareMounts does everything before pivot_root: it sets the propagation
// of "/", bind-mounts cfg.Rootfs onto itself, makes each of cfg.Mounts in
// order inside it, and, unless /dev is a bind mount, creates the default
// devices, cfg.Devices, the /dev symlinks and the /dev/ptmx link.
func PrepareMounts(cfg *configs.Config) error {
	// Without a mount namespace of its own the container's mounts are made
	// in the caller's namespace (as runc does) and the host's "/" is left
	// alone: no propagation change; the parent has bound the rootfs onto
	// itself (so that delete can detach every mount made below it).
	if cfg.NamespaceOf(specs.MountNamespace) != nil {
		if err := prepareRoot(cfg); err != nil {
			return fmt.Errorf("prepare rootfs %q: %w", cfg.Rootfs, err)
		}
	}
	r, err := openRoot(cfg.Rootfs)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, m := range cfg.Mounts {
		if err := mountEntry(r, cfg, m); err != nil {
			return fmt.Errorf("mount %q (type %q) on %q: %w", m.Source, m.Device, m.Destination, err)
		}
	}
	if !needsSetupDev(cfg) {
		return nil
	}
	if err := createDevices(r, cfg); err != nil {
		return err
	}
	if err := setupPtmx(r); err != nil {
		return err
	}
	return setupDevSymlinks(r)
}

// prepareRoot makes "/" MS_SLAVE|MS_REC (or cfg.RootPropagation: the host's
// shared mounts then reach the container), makes the parent mount of the
// rootfs private (pivot_root refuses a shared parent), and bind-mounts the
// rootfs onto itself so it is a mount point. An unbindable root propagation
// is applied after pivot only: applied here it would make this bind fail.
func prepareRoot(cfg *configs.Config) error {
	flag := rootPropagation(cfg)
	if err := mount("", "/", "", flag, ""); err != nil {
		return err
	}
	// After a recursive slave or private on "/", no mount of this
	// namespace is shared: the mount holding the rootfs need not be looked
	// up in mountinfo (nor, in PivotRoot, the rootfs' own bind of it).
	if !noneShared(flag) {
		if err := parentMountPrivate(cfg.Rootfs); err != nil {
			return err
		}
	}
	return mount(cfg.Rootfs, cfg.Rootfs, "bind", unix.MS_BIND|unix.MS_REC, "")
}

// noneShared reports whether propagation flag, applied to "/", leaves no
// shared mount in the namespace: recursive, and slave or private.
func noneShared(flag uintptr) bool {
	return flag&unix.MS_REC != 0 && flag&unix.MS_SHARED == 0 && flag&(unix.MS_SLAVE|unix.MS_PRIVATE) != 0
}

// rootPropagation is the propagation prepareRoot gives "/".
func rootPropagation(cfg *configs.Config) uintptr {
	if p := cfg.RootPropagation; p != 0 && p&unix.MS_UNBINDABLE == 0 {
		return p
	}
	return unix.MS_SLAVE | unix.MS_REC
}

// parentMountPrivate makes the mount holding path private if it is shared.
func parentMountPrivate(path string) error {
	mp, shared, err := mountOf(path)
	if err != nil {
		return err
	}
	if !shared {
		return nil
	}
	return mount("", mp, "", unix.MS_PRIVATE, "")
}

// mountOf returns the mount point of the mount that holds path and whether
// that mount is shared.
func mountOf(path string) (string, bool, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", false, err
	}
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(real))
	if err != nil {
		return "", false, fmt.Errorf("read mountinfo: %w", err)
	}
	var best *mountinfo.Info
	for _, m := range mounts {
		// The last and longest match is the mount on top.
		if best == nil || len(m.Mountpoint) >= len(best.Mountpoint) {
			best = m
		}
	}
	if best == nil {
		return "", false, fmt.Errorf("no mount holds %q", real)
	}
	return best.Mountpoint, hasOptional(best.Optional, "shared:"), nil
}

func hasOptional(optional, prefix string) bool {
	for _, f := range splitFields(optional) {
		if len(f) >= len(prefix) && f[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// mountEntry makes one configured mount inside the root.
func mountEntry(r *root, cfg *configs.Config, m *configs.Mount) error {
	if (m.IDMap || m.SourceTree) && m.IDMapFd <= 0 {
		return ErrIDMapNoTree
	}
	if err := checkProcMount(m); err != nil {
		return err
	}
	if m.Device == "proc" || m.Device == "sysfs" || m.Destination == "/proc" || m.Destination == "/sys" {
		if err := requireRealDir(r, m.Destination); err != nil {
			return err
		}
	}
	var err error
	switch {
	case m.IDMap || m.SourceTree:
		err = mountIDMapped(r, m)
	case m.IsBind():
		err = mountBind(r, m)
	case m.Device == "tmpfs":
		err = mountTmpfs(r, m)
	case m.Device == "cgroup":
		err = mountCgroup(r, cfg, m)
	case m.Device == "cgroup2":
		err = mountCgroup2(r, m)
	default:
		err = mountFs(r, m, m.Flags, m.Data)
		if errors.Is(err, unix.EPERM) {
			// In a user namespace without its own network namespace,
			// sysfs cannot be mounted; nor mqueue without an ipc one.
			fallback := map[string]string{"sysfs": "/sys", "mqueue": "/dev/mqueue"}[m.Device]
			if _, serr := os.Stat(fallback); fallback != "" && serr == nil {
				err = mountBindFallback(r, m, fallback)
			}
		}
	}
	if err != nil {
		return err
	}
	return applyAfterMount(r, m)
}

// mountFs mounts a filesystem of type m.Device on its directory.
func mountFs(r *root, m *configs.Mount, flags uintptr, data string) error {
	t, err := r.target(m.Destination, false)
	if err != nil {
		return err
	}
	defer t.Close()
	return mount(m.Source, procFd(t), m.Device, flags, data)
}

// mountBindFallback replaces a filesystem mount the kernel refused by a
// recursive bind of the host's src, with the same flags.
func mountBindFallback(r *root, m *configs.Mount, src string) error {
	b := *m
	b.Source = src
	b.Device = "bind"
	b.Flags = m.Flags | unix.MS_BIND | unix.MS_REC
	b.Data = ""
	if err := mountBind(r, &b); err != nil {
		return err
	}
	if m.Flags&unix.MS_RDONLY == 0 {
		return nil
	}
	// The remount made only the top mount read-only: the host's
	// submounts (e.g. /sys/fs/cgroup/*) must be too.
	t, err := r.open(m.Destination)
	if err != nil {
		return err
	}
	defer t.Close()
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("recursive read-only: %w", err)
	}
	return nil
}

// applyAfterMount applies m's propagation flags, then its recursive
// attributes, to the mount now on m.Destination.
func applyAfterMount(r *root, m *configs.Mount) error {
	if len(m.PropagationFlags) == 0 && m.RecAttrSet == 0 && m.RecAttrClr == 0 {
		return nil
	}
	t, err := r.open(m.Destination)
	if err != nil {
		return err
	}
	defer t.Close()
	for _, p := range m.PropagationFlags {
		if err := mount("", procFd(t), "", p, ""); err != nil {
			return fmt.Errorf("propagation: %w", err)
		}
	}
	if m.RecAttrSet != 0 || m.RecAttrClr != 0 {
		attr := &unix.MountAttr{Attr_set: m.RecAttrSet, Attr_clr: m.RecAttrClr}
		if err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("mount_setattr(set %#x, clear %#x): %w", m.RecAttrSet, m.RecAttrClr, err)
		}
	}
	return nil
}

// isDir reports whether path (on the host) is a directory, following
// symlinks; a missing path counts as a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err != nil || fi.IsDir()
}
