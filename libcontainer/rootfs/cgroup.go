package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroupHierarchy is one cgroup hierarchy mounted on the host.
type cgroupHierarchy struct {
	mountpoint string   // /sys/fs/cgroup/cpu
	root       string   // mountinfo root of that mount
	fstype     string   // cgroup or cgroup2
	options    []string // controllers ("cpu", "name=systemd"); none for cgroup2
}

// mountCgroup handles a "cgroup" mount. On a cgroup v2 host it is a cgroup2
// mount. On cgroup v1 (or hybrid) it is, as in runc, a tmpfs on the
// destination with every host hierarchy inside it: the container's own
// cgroup bound from the host, or, with a new cgroup namespace, the
// hierarchy mounted afresh (rooted at the namespace). The hierarchies get
// m's flags (read-only unless "rw"), and so does the tmpfs, last.
func mountCgroup(r *root, cfg *configs.Config, m *configs.Mount) error {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		c := *m
		c.Device = "cgroup2"
		return mountCgroup2(r, &c)
	}
	hier, err := hostCgroupHierarchies()
	if err != nil {
		return err
	}
	own, err := ownCgroups()
	if err != nil {
		return err
	}
	tm := &configs.Mount{Source: "tmpfs", Device: "tmpfs", Destination: m.Destination,
		Flags: m.Flags &^ unix.MS_RDONLY, Data: "mode=755"}
	if err := mountTmpfs(r, tm); err != nil {
		return fmt.Errorf("cgroup tmpfs: %w", err)
	}
	newNS := cfg.HasNewNamespace(specs.CgroupNamespace)
	for _, h := range hier {
		name := filepath.Base(h.mountpoint)
		dest := path.Join(m.Destination, name)
		if err := mountHierarchy(r, m, h, dest, own, newNS); err != nil {
			return fmt.Errorf("cgroup hierarchy %q: %w", name, err)
		}
		if err := comountLinks(r, m.Destination, name); err != nil {
			return err
		}
	}
	// m's flags (ro, nosuid, nodev, noexec, atime) for the tmpfs and every
	// hierarchy in it at once: one recursive mount_setattr instead of a
	// remount per bind.
	if attr := mountAttrOf(m.Flags); attr != 0 {
		t, err := r.open(m.Destination)
		if err != nil {
			return err
		}
		defer t.Close()
		ma := &unix.MountAttr{Attr_set: attr}
		if attr&unix.MOUNT_ATTR__ATIME != 0 {
			ma.Attr_clr = unix.MOUNT_ATTR__ATIME
		}
		if err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, ma); err != nil {
			return fmt.Errorf("cgroup mount attributes %#x: %w", attr, err)
		}
	}
	return nil
}

// mountAttrOf translates the MS_* flags a remount would apply into
// MOUNT_ATTR_* bits.
func mountAttrOf(flags uintptr) uint64 {
	var a uint64
	for _, f := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if flags&f.ms != 0 {
			a |= f.attr
		}
	}
	switch {
	case flags&unix.MS_NOATIME != 0:
		a |= unix.MOUNT_ATTR_NOATIME
	case flags&unix.MS_STRICTATIME != 0:
		a |= unix.MOUNT_ATTR_STRICTATIME
	case flags&unix.MS_RELATIME != 0:
		a |= unix.MOUNT_ATTR_RELATIME
	}
	return a
}

// mountHierarchy puts one host hierarchy at dest.
func mountHierarchy(r *root, m *configs.Mount, h cgroupHierarchy, dest string, own map[string]string, newNS bool) error {
	flags := m.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if newNS {
		fm := &configs.Mount{Source: h.fstype, Device: h.fstype, Destination: dest}
		data := strings.Join(h.options, ",")
		err := mountFs(r, fm, flags, data)
		if err == nil || !errors.Is(err, unix.EPERM) {
			return err
		}
		// Fall through to a bind (e.g. in a user namespace that does
		// not own the cgroup namespace).
	}
	// A plain bind: mountCgroup applies m's flags to the whole tree after.
	b := &configs.Mount{Source: h.bindSource(own), Device: "bind", Destination: dest,
		Flags: unix.MS_BIND | unix.MS_REC}
	return mountBind(r, b)
}

// bindSource is the host directory of h that a container whose cgroups
// are own (see readCgroups) gets: its own cgroup, or h's root.
func (h cgroupHierarchy) bindSource(own map[string]string) string {
	sub, ok := own[hierarchyKey(h)]
	if !ok {
		sub = h.root
	}
	rel, err := filepath.Rel(h.root, sub)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = "."
	}
	return filepath.Join(h.mountpoint, rel)
}

// comountLinks adds, for a hierarchy of co-mounted controllers
// ("cpu,cpuacct"), a symlink per controller, as the host has.
func comountLinks(r *root, dir, name string) error {
	if !strings.Contains(name, ",") {
		return nil
	}
	d, err := r.open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, c := range strings.Split(name, ",") {
		if err := unix.Symlinkat(name, int(d.Fd()), c); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink %q: %w", path.Join(dir, c), err)
		}
	}
	return nil
}

// hierarchyKey identifies a hierarchy like /proc/self/cgroup does: its
// sorted controllers, or "" for cgroup2.
func hierarchyKey(h cgroupHierarchy) string {
	return strings.Join(h.options, ",")
}

// hostCgroupHierarchies lists the cgroup and cgroup2 mounts under
// /sys/fs/cgroup, in mountinfo order.
func hostCgroupHierarchies() ([]cgroupHierarchy, error) {
	mounts, err := utils.Mounts(func(i *mountinfo.Info) (bool, bool) {
		return i.FSType != "cgroup" && i.FSType != "cgroup2", false
	})
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var out []cgroupHierarchy
	seen := map[string]bool{}
	for _, mi := range mounts {
		if filepath.Dir(mi.Mountpoint) != cgroupRoot || seen[mi.Mountpoint] {
			continue
		}
		seen[mi.Mountpoint] = true
		h := cgroupHierarchy{mountpoint: mi.Mountpoint, root: mi.Root, fstype: mi.FSType}
		if mi.FSType == "cgroup" {
			for _, o := range strings.Split(mi.VFSOptions, ",") {
				if o == "rw" || o == "ro" || o == "" || strings.Contains(o, "=") && !strings.HasPrefix(o, "name=") ||
					o == "clone_children" || o == "xattr" || o == "noprefix" || o == "cpuset_v2_mode" {
					continue
				}
				h.options = append(h.options, o)
			}
		}
		sort.Strings(h.options)
		out = append(out, h)
	}
	return out, nil
}

// ownCgroups is this process's cgroups: hierarchy key (sorted
// controllers, "" for cgroup2) → cgroup path.
func ownCgroups() (map[string]string, error) {
	return readCgroups("/proc/self/cgroup")
}

// readCgroups parses a /proc/<pid>/cgroup file into hierarchy key (sorted
// controllers, "" for cgroup2) → cgroup path.
func readCgroups(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCgroups(string(b)), nil
}

// mountCgroup2 mounts cgroup2 on m.Destination. When the kernel refuses
// (no cgroup namespace of our own in a user namespace), the host's cgroup2
// tree of this process is bind-mounted instead, with m's flags.
func mountCgroup2(r *root, m *configs.Mount) error {
	err := mountFs(r, m, m.Flags, m.Data)
	if err == nil || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
		return err
	}
	src := cgroupRoot
	var st unix.Statfs_t
	if unix.Statfs(cgroupRoot, &st) == nil && st.Type != unix.CGROUP2_SUPER_MAGIC {
		src = filepath.Join(cgroupRoot, "unified")
	}
	if own, oerr := ownCgroups(); oerr == nil {
		if p, ok := own[""]; ok {
			src = filepath.Join(src, p)
		}
	}
	return mountBindFallback(r, m, src)
}
