package fs2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Manager manages one container's cgroup on a cgroup v2 host.
type Manager struct {
	mu sync.Mutex
	// dir is the container's cgroup directory (absolute).
	dir string
	// mount is the cgroup2 mountpoint dir is under; Apply enables
	// controllers in every directory from it down to dir's parent.
	mount string
	// resources given to New: the controllers they need must be
	// enabled by Apply (nil after Load: enabling is best effort then).
	resources *specs.LinuxResources
}

// New resolves the container's cgroup directory from cfg without
// creating anything. It fails early when a resource needs a controller
// the host's root cgroup does not have.
func New(cfg *configs.Cgroup, id string) (*Manager, error) {
	return newManager(cfg, id, cgutil.UnifiedMountpoint)
}

func newManager(cfg *configs.Cgroup, id, mount string) (*Manager, error) {
	if cfg == nil {
		cfg = &configs.Cgroup{}
	}
	var own string
	if p := cgutil.CleanPath(cfg.Path); p == "" || !filepath.IsAbs(p) {
		cgs, err := cgutil.OwnCgroups()
		if err != nil {
			return nil, err
		}
		var ok bool
		if own, ok = cgs[""]; !ok {
			return nil, errors.New("relative cgroup path: the calling process has no cgroup v2 entry (0::) in /proc/self/cgroup")
		}
	}
	dir, err := containerDir(mount, cfg.Path, id, own)
	if err != nil {
		return nil, err
	}
	avail, err := readControllers(mount)
	if err != nil {
		return nil, err
	}
	if err := checkAvailable(cfg.Resources, avail, mount); err != nil {
		return nil, err
	}
	return &Manager{dir: dir, mount: mount, resources: cfg.Resources}, nil
}

// Load rebuilds a manager from the Paths() of an earlier one: a map
// with the single key "" holding the absolute cgroup directory.
func Load(paths map[string]string) (*Manager, error) {
	dir, ok := paths[""]
	if !ok || len(paths) != 1 {
		return nil, fmt.Errorf("cgroup v2 paths %v: want exactly one entry with key \"\"", paths)
	}
	return load(dir, cgutil.UnifiedMountpoint)
}

func load(dir, mount string) (*Manager, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("cgroup path %q is not absolute", dir)
	}
	dir = filepath.Clean(dir)
	if !isBelow(dir, mount) {
		return nil, fmt.Errorf("cgroup path %q is not below the cgroup2 mount %s", dir, mount)
	}
	return &Manager{dir: dir, mount: mount}, nil
}

// Paths returns {"": dir}.
func (m *Manager) Paths() map[string]string {
	return map[string]string{"": m.dir}
}

// Path returns the container's cgroup directory.
func (m *Manager) Path() string { return m.dir }

// GetPids returns every pid in the cgroup and its sub-cgroups, sorted.
func (m *Manager) GetPids() ([]int, error) {
	return cgutil.AllPids(m.dir)
}

// Exists reports whether the cgroup directory is still there.
func (m *Manager) Exists() bool {
	_, err := os.Stat(m.dir)
	return err == nil
}

// CgroupFD opens the (already created: call Apply(0) first) cgroup
// directory as an O_PATH|O_DIRECTORY file descriptor, for clone3's
// CLONE_INTO_CGROUP (Go: SysProcAttr.UseCgroupFD/CgroupFD). The caller
// closes it.
func (m *Manager) CgroupFD() (int, error) {
	fd, err := unix.Open(m.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, fmt.Errorf("open cgroup %s: %w", m.dir, cgutil.ErrNotExist)
		}
		return -1, fmt.Errorf("open cgroup %s: %w", m.dir, err)
	}
	return fd, nil
}

// isBelow reports whether p is dir or inside it.
func isBelow(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
