package fs1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// prepareCpuset creates dir and every missing ancestor below the cpuset
// mountpoint. A new v1 cpuset cgroup starts with empty cpus and mems, and
// no process can join it until both are set, so each level gets its
// parent's values; the container's own level gets the requested values
// first, and the parent's only for what was not requested.
func (m *Manager) prepareCpuset(dir string) error {
	root := m.mountpoint("cpuset")
	rel, err := filepath.Rel(root, dir)
	if root == "" || err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		// Unknown layout: make the chain and only fix the last level.
		if err := mkdirCgroup(dir); err != nil {
			return err
		}
		return m.fillCpuset(dir)
	}
	cur := root
	parts := strings.Split(rel, string(filepath.Separator))
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		if err := os.Mkdir(cur, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("create cgroup %s: %w", cur, cgutil.UnwrapPath(err))
		}
		if i == len(parts)-1 {
			return m.fillCpuset(cur)
		}
		if err := copyCpusetIfEmpty(cur); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) fillCpuset(dir string) error {
	if m.resources != nil {
		if err := cgutil.SetCpuset(dir, m.resources.CPU); err != nil {
			return err
		}
	}
	return copyCpusetIfEmpty(dir)
}

// copyCpusetIfEmpty copies cpuset.cpus and cpuset.mems from the parent of
// dir into dir when they are empty there.
func copyCpusetIfEmpty(dir string) error {
	parent := filepath.Dir(dir)
	for _, name := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := cgutil.ReadFile(dir, name)
		if err != nil {
			return err
		}
		if strings.TrimSpace(cur) != "" {
			continue
		}
		val, err := cgutil.ReadFile(parent, name)
		if err != nil {
			return err
		}
		val = strings.TrimSpace(val)
		if val == "" {
			return fmt.Errorf("%s: parent %s has an empty %s to inherit", dir, parent, name)
		}
		if err := cgutil.WriteFile(dir, name, val); err != nil {
			return err
		}
	}
	return nil
}

// mountpoint returns the mountpoint of subsystem's hierarchy, looking it
// up in mountinfo for a manager built by Load.
func (m *Manager) mountpoint(subsystem string) string {
	if mp := m.mountpoints[subsystem]; mp != "" {
		return mp
	}
	dir := m.paths[subsystem]
	hs, err := cgutil.Mounts()
	if err != nil || dir == "" {
		return ""
	}
	best := ""
	for _, h := range hs {
		mp := h.Mountpoint
		if (dir == mp || strings.HasPrefix(dir, mp+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	if best != "" {
		if m.mountpoints == nil {
			m.mountpoints = make(map[string]string)
		}
		m.mountpoints[subsystem] = best
	}
	return best
}
