package fs2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// Apply creates the cgroup directory (and its parents), enables every
// available controller in the cgroup.subtree_control of each ancestor
// from the mount down to the cgroup's parent, and moves pid into the
// cgroup. pid <= 0 only creates it. A controller a resource of New needs
// that cannot be enabled is an error (ErrInternalProcesses when an
// ancestor has processes of its own); others are enabled best effort,
// as runc does.
func (m *Manager) Apply(pid int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dir == m.mount {
		return fmt.Errorf("refusing to use the cgroup2 root %s as a container cgroup", m.dir)
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", m.dir, cgutil.UnwrapPath(err))
	}
	required := make(map[string]string) // controller -> field
	for _, n := range neededControllers(m.resources) {
		if _, ok := required[n.controller]; !ok {
			required[n.controller] = n.field
		}
	}
	for _, dir := range ancestors(m.mount, m.dir) {
		if err := enableControllers(dir, required); err != nil {
			return err
		}
	}
	if pid > 0 {
		if err := cgutil.WriteFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			if errors.Is(err, unix.EBUSY) {
				return fmt.Errorf("join pid %d to cgroup %s: it has controllers enabled in cgroup.subtree_control (it is not a leaf): %w",
					pid, m.dir, ErrInternalProcesses)
			}
			return fmt.Errorf("join pid %d to cgroup: %w", pid, err)
		}
	}
	return nil
}

// ancestors lists mount and every directory between it and dir (dir
// excluded), top down.
func ancestors(mount, dir string) []string {
	rel, err := filepath.Rel(mount, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil
	}
	res := []string{mount}
	cur := mount
	parts := strings.Split(rel, string(filepath.Separator))
	for _, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		res = append(res, cur)
	}
	return res
}

// enableControllers writes "+c" to dir/cgroup.subtree_control for every
// controller of dir/cgroup.controllers not yet enabled: all at once, and
// if the kernel refuses, one by one. A required controller (controller
// -> the resource field needing it) that stays off is an error.
func enableControllers(dir string, required map[string]string) error {
	avail, err := readControllers(dir)
	if err != nil {
		return err
	}
	enabledRaw, err := cgutil.ReadFile(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	enabled := make(map[string]bool)
	for _, c := range strings.Fields(enabledRaw) {
		enabled[c] = true
	}
	var missing []string
	for c := range avail {
		if !enabled[c] {
			missing = append(missing, c)
		}
	}
	for c, field := range required {
		if !avail[c] {
			return fmt.Errorf("linux.resources.%s: controller %q is not in %s/cgroup.controllers (%s): %w",
				field, c, dir, listControllers(avail), ErrControllerUnavailable)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	line := "+" + strings.Join(missing, " +")
	if cgutil.WriteFile(dir, "cgroup.subtree_control", line) == nil {
		return nil
	}
	// The all-at-once write failed. In a cgroup with processes of its
	// own (the real root, which has no cgroup.type, is exempt) a
	// required controller is an error: domain ones are refused, and
	// threaded ones would make it a thread root whose domain children
	// cannot take processes. Others are left off there for the same
	// reason; elsewhere they are enabled one by one, best effort.
	busy := cgutil.Exists(dir, "cgroup.type") && hasProcesses(dir)
	for _, c := range missing {
		field, needed := required[c]
		if busy {
			if needed {
				return internalProcessesError(field, c, dir)
			}
			continue
		}
		err := cgutil.WriteFile(dir, "cgroup.subtree_control", "+"+c)
		if err == nil || !needed {
			continue
		}
		if errors.Is(err, unix.EBUSY) {
			return internalProcessesError(field, c, dir)
		}
		return fmt.Errorf("linux.resources.%s: enable controller %q: %w", field, c, err)
	}
	return nil
}

func internalProcessesError(field, c, dir string) error {
	return fmt.Errorf("linux.resources.%s: enable controller %q in %s/cgroup.subtree_control: %s has processes of its own, so it cannot give controllers to its children; use a cgroupsPath outside it or move its processes into a leaf cgroup: %w",
		field, c, dir, dir, ErrInternalProcesses)
}

// hasProcesses reports whether dir/cgroup.procs lists any process.
func hasProcesses(dir string) bool {
	pids, err := cgutil.ReadProcs(dir)
	return err == nil && len(pids) > 0
}
