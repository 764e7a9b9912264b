package fs1

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Manager manages one container's cgroup in the v1 hierarchies.
type Manager struct {
	mu sync.Mutex
	// paths: subsystem ("memory", "name=systemd", "" for the hybrid
	// cgroup2) -> the container's directory in its hierarchy.
	paths map[string]string
	// mountpoints: subsystem -> mountpoint of its hierarchy (known after
	// New; filled lazily after Load).
	mountpoints map[string]string
	// resources given to New; Apply writes the ones a process needs
	// before it can join (cpuset cpus/mems, cpu rt runtime).
	resources *specs.LinuxResources
}

// New resolves the container's cgroup directories from cfg without
// creating anything. It fails early when a resource needs a controller
// that is not mounted.
func New(cfg *configs.Cgroup, id string) (*Manager, error) {
	if cfg == nil {
		cfg = &configs.Cgroup{}
	}
	inner, err := innerPath(cfg.Path, id)
	if err != nil {
		return nil, err
	}
	hierarchies, err := cgutil.Mounts()
	if err != nil {
		return nil, err
	}
	var own map[string]string
	if !isAbs(inner) {
		if own, err = cgutil.OwnCgroups(); err != nil {
			return nil, err
		}
	}
	paths, mountpoints, err := resolvePaths(inner, hierarchies, own)
	if err != nil {
		return nil, err
	}
	if paths["devices"] == "" {
		// Without it the container could open every host device.
		return nil, fmt.Errorf("devices: %w (refusing to run a container without device access control)", cgutil.ErrNotMounted)
	}
	if err := checkMounted(cfg.Resources, paths); err != nil {
		return nil, err
	}
	return &Manager{paths: paths, mountpoints: mountpoints, resources: cfg.Resources}, nil
}

// Load rebuilds a manager from the Paths() of an earlier one.
func Load(paths map[string]string) (*Manager, error) {
	if len(paths) == 0 {
		return nil, errors.New("no cgroup paths to load")
	}
	m := &Manager{paths: make(map[string]string, len(paths))}
	for k, v := range paths {
		if !isAbs(v) {
			return nil, fmt.Errorf("cgroup path %q for %q is not absolute", v, k)
		}
		m.paths[k] = v
	}
	return m, nil
}

// Paths returns a copy of subsystem -> directory.
func (m *Manager) Paths() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	res := make(map[string]string, len(m.paths))
	for k, v := range m.paths {
		res[k] = v
	}
	return res
}

// Path returns the directory for one subsystem ("" if not joined).
func (m *Manager) Path(subsystem string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.paths[subsystem]
}

// mainPath is the directory used to list pids and check existence:
// the first joined of devices, freezer, memory, pids, else any.
func (m *Manager) mainPath() string {
	for _, s := range []string{"devices", "freezer", "memory", "pids", "cpu"} {
		if p := m.paths[s]; p != "" {
			return p
		}
	}
	keys := make([]string, 0, len(m.paths))
	for k := range m.paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return m.paths[keys[len(keys)-1]]
}

// GetPids returns every pid in the container's cgroup and its
// sub-cgroups, sorted.
func (m *Manager) GetPids() ([]int, error) {
	m.mu.Lock()
	dir := m.mainPath()
	m.mu.Unlock()
	if dir == "" {
		return nil, cgutil.ErrNotExist
	}
	return cgutil.AllPids(dir)
}

// Exists reports whether the container's cgroup is still there.
func (m *Manager) Exists() bool {
	m.mu.Lock()
	dir := m.mainPath()
	m.mu.Unlock()
	if dir == "" {
		return false
	}
	_, err := os.Stat(dir)
	return err == nil
}

func isAbs(p string) bool { return len(p) > 0 && p[0] == '/' }
