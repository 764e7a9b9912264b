package fs1

import (
	"fmt"
	"os"
	"strconv"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// Apply creates the container's directory in every joined hierarchy and
// moves pid into each. A pid <= 0 only creates the directories. Settings
// a process needs before it may join are written first: cpuset.cpus/mems
// (copied from the parent when not given, else the join fails) and the
// cpu real-time budget (a SCHED_RR/FIFO process cannot join a cgroup
// without one).
func (m *Manager) Apply(pid int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, key := range subsystemOrder {
		dir := m.paths[key]
		if dir == "" {
			continue
		}
		var err error
		switch key {
		case "cpuset":
			err = m.prepareCpuset(dir)
		case "cpu":
			err = mkdirCgroup(dir)
			if err == nil && m.resources != nil && m.resources.CPU != nil {
				err = setCPURealtime(dir, m.resources.CPU)
			}
		default:
			err = mkdirCgroup(dir)
		}
		if err != nil {
			return err
		}
		if pid > 0 {
			if err := joinCgroup(dir, pid); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkdirCgroup makes dir (and its parents). A container's cgroup is most
// often one new directory under one that exists: one mkdir, and
// os.MkdirAll (a stat of each level before its mkdir) only when that fails
// (a missing parent, or dir already there).
func mkdirCgroup(dir string) error {
	if err := os.Mkdir(dir, 0o755); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", dir, cgutil.UnwrapPath(err))
	}
	return nil
}

func joinCgroup(dir string, pid int) error {
	if err := cgutil.WriteFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("join pid %d to cgroup: %w", pid, err)
	}
	return nil
}

// AddPid moves pid into the existing cgroups of paths (an exec into a
// running container, as runc's setns process does): one cgroup.procs
// write per hierarchy, in Apply's order, without Apply's mkdir and cpuset
// preparation, which need mountinfo and /proc/cgroups and a dozen more
// calls. A cgroup that no longer exists is an error, not re-made empty
// (without the container's limits).
func AddPid(paths map[string]string, pid int) error {
	for _, key := range subsystemOrder {
		if dir := paths[key]; dir != "" {
			if !isAbs(dir) {
				return fmt.Errorf("cgroup path %q for %q is not absolute", dir, key)
			}
			if err := joinCgroup(dir, pid); err != nil {
				return err
			}
		}
	}
	return nil
}

// SelfJoinFiles is AddPid for a single-threaded process that moves
// itself: the `tasks` file of each v1 hierarchy of paths, in Apply's
// order (writing "0" there moves the writing thread without the kernel's
// global threadgroup write lock, and so without its RCU grace period),
// and the directory of the hybrid host's cgroup2 hierarchy ("" if none),
// which has no `tasks` file: a child can be born there (CLONE_INTO_CGROUP)
// or moved with its cgroup.procs.
func SelfJoinFiles(paths map[string]string) (tasks []string, unified string, err error) {
	for _, key := range subsystemOrder {
		dir := paths[key]
		if dir == "" {
			continue
		}
		if !isAbs(dir) {
			return nil, "", fmt.Errorf("cgroup path %q for %q is not absolute", dir, key)
		}
		if key == unifiedKey {
			unified = dir
			continue
		}
		tasks = append(tasks, dir+"/tasks")
	}
	return tasks, unified, nil
}
