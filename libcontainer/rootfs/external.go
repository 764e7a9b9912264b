package rootfs

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// CgroupBinds lists the bind mounts a "cgroup" mount m is made of on a
// cgroup v1 (or hybrid) host for a process in the container's cgroups
// (pid): one per host hierarchy, at m.Destination/<hierarchy>, bound from
// the host directory of pid's cgroup in it. On a cgroup v2 host, where m is
// a cgroup2 mount of its own, it returns nothing. Checkpoint/restore hands
// these to CRIU as external mounts.
func CgroupBinds(m *configs.Mount, pid int) ([]configs.Mount, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return nil, nil
	}
	hier, err := hostCgroupHierarchies()
	if err != nil {
		return nil, err
	}
	own, err := cgroupsOf(pid)
	if err != nil {
		return nil, err
	}
	var out []configs.Mount
	for _, h := range hier {
		sub, ok := own[hierarchyKey(h)]
		if !ok {
			sub = h.root
		}
		rel, err := filepath.Rel(h.root, sub)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "."
		}
		out = append(out, configs.Mount{
			Source:      filepath.Join(h.mountpoint, rel),
			Destination: path.Join(m.Destination, filepath.Base(h.mountpoint)),
			Device:      "bind",
			Flags:       unix.MS_BIND | unix.MS_REC,
		})
	}
	return out, nil
}

// cgroupsOf is pid's cgroups, keyed as ownCgroups.
func cgroupsOf(pid int) (map[string]string, error) {
	m, err := readCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read cgroups of %d: %w", pid, err)
	}
	return m, nil
}

// PrepareRestoreMounts readies a container's rootfs, mounted at root, for
// a CRIU restore the way create readies it: mount points of the config's
// mounts exist (except below a tmpfs, whose content CRIU restores), and
// bind mounts are bound (so that mount points inside them exist too). It
// must run in a private mount namespace that dies with the restore.
func PrepareRestoreMounts(root string, cfg *configs.Config) error {
	r, err := openRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	var tmpfs []string
	for _, m := range cfg.Mounts {
		if m.Device == "tmpfs" {
			tmpfs = append(tmpfs, m.Destination)
		}
	}
	under := func(p string) bool {
		for _, t := range tmpfs {
			if strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/") {
				return true
			}
		}
		return false
	}
	for _, m := range cfg.Mounts {
		if m.Device == "cgroup" || m.Device == "cgroup2" || under(m.Destination) {
			continue
		}
		if m.IsBind() {
			if err := mountBind(r, &configs.Mount{Source: m.Source, Destination: m.Destination,
				Device: "bind", Flags: unix.MS_BIND | unix.MS_REC}); err != nil {
				return fmt.Errorf("restore mount point %q: %w", m.Destination, err)
			}
			continue
		}
		t, err := r.target(m.Destination, false)
		if err != nil {
			return fmt.Errorf("restore mount point %q: %w", m.Destination, err)
		}
		t.Close()
	}
	return nil
}
