// Package cgroups is rt's cgroup manager interface and the chooser that
// picks an implementation for the host: the v1 "fs" manager (package
// fs1) on v1 and hybrid hosts, the cgroup v2 manager (package fs2) when
// /sys/fs/cgroup is a cgroup2 mount.
package cgroups

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/cgroups/fs1"
	"github.com/rt-runtime/rt/libcontainer/cgroups/fs2"
	"github.com/rt-runtime/rt/libcontainer/cgroups/systemd"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/events"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotExist: the container's cgroup is gone.
	ErrNotExist = cgutil.ErrNotExist
	// ErrNotMounted: a resource needs a controller with no mounted
	// hierarchy (the message names the spec field and the controller).
	ErrNotMounted = cgutil.ErrNotMounted
	// ErrNotSupported: the kernel lacks the interface file a resource
	// needs (the message names the field and the file).
	ErrNotSupported = cgutil.ErrNotSupported
	// ErrFreezeFailed: the freezer could not reach FROZEN.
	ErrFreezeFailed = cgutil.ErrFreezeFailed
	// ErrInvalidResource: ValidateResources rejected a value; the error
	// is an *InvalidResourceError naming the field.
	ErrInvalidResource = errors.New("invalid resource value")
	// ErrSystemdUnsupported: --systemd-cgroup on a host whose init is
	// not systemd (as runc, an error).
	ErrSystemdUnsupported = systemd.ErrNotRunning
	// ErrInternalProcesses: cgroup v2's "no internal processes" rule
	// stopped a controller from being enabled or a process from joining.
	ErrInternalProcesses = fs2.ErrInternalProcesses
	// ErrControllerUnavailable: a resource needs a cgroup v2 controller
	// that is not in the cgroup's cgroup.controllers.
	ErrControllerUnavailable = fs2.ErrControllerUnavailable
)

// Manager manages one container's cgroup. Every error of the managers
// New, LoadConfig and Load return starts with "cgroup: " (prefix.go);
// a manager whose cgroup a child can be born in is also an FDOpener.
type Manager interface {
	// Apply creates the cgroup (in every mounted hierarchy on v1) and
	// moves pid into it; pid <= 0 only creates it.
	Apply(pid int) error
	// Set writes every setting of r; nil writes nothing.
	Set(r *specs.LinuxResources) error
	// Destroy removes the cgroup; a cgroup already gone is not an error.
	Destroy() error
	// Paths maps each controller (v1: "memory", "cpu", "name=systemd",
	// "" for a hybrid host's cgroup2; v2: "") to its absolute directory.
	// Store it in the container state and give it back to Load.
	Paths() map[string]string
	// GetPids lists every pid in the cgroup, sub-cgroups included.
	GetPids() ([]int, error)
	// Exists reports whether the cgroup is still there.
	Exists() bool
	// Freeze stops every process of the cgroup and waits until frozen.
	Freeze() error
	// Thaw resumes them.
	Thaw() error
	// IsFrozen reports whether the cgroup itself is frozen.
	IsFrozen() (bool, error)
	// EffectivelyFrozen reports whether the cgroup's processes are
	// frozen, by the cgroup itself or by an ancestor.
	EffectivelyFrozen() (bool, error)
	// Stats reads the cgroup's usage counters.
	Stats() (*Stats, error)
	// NotifyOOM returns a channel that receives a value on every OOM
	// of the cgroup and is closed when the cgroup is removed.
	NotifyOOM() (<-chan struct{}, error)
}

// Stats is a cgroup's usage, in the JSON shape `rt events` prints.
type Stats = events.Stats

// New returns the manager for a new container's cgroup: cfg.Path as the
// spec's cgroupsPath (absolute: from each hierarchy's root; relative:
// below the calling process's own cgroup in each hierarchy; empty: the
// relative path "<id>"). Nothing is created until Apply. It fails early
// when cfg.Resources needs a controller that is not mounted.
func New(cfg *configs.Cgroup, id string) (Manager, error) {
	if cfg == nil {
		cfg = &configs.Cgroup{}
	}
	if cfg.Systemd {
		// a transient systemd unit over D-Bus (as runc: an error when
		// systemd is not the host's init)
		m, err := systemd.New(cfg, id)
		if err != nil {
			return nil, prefix(err)
		}
		return wrap(m), nil
	}
	if cgutil.IsUnifiedMode() {
		m, err := fs2.New(cfg, id)
		if err != nil {
			return nil, prefix(err)
		}
		return wrap(m), nil
	}
	m, err := fs1.New(cfg, id)
	if err != nil {
		return nil, prefix(err)
	}
	return wrap(m), nil
}

// LoadConfig rebuilds the manager of an existing container from its
// cgroup config and saved Paths(): a systemd unit's (--systemd-cgroup)
// or a plain cgroupfs one (Load).
func LoadConfig(cfg *configs.Cgroup, id string, paths map[string]string) (Manager, error) {
	if cfg == nil || !cfg.Systemd {
		return Load(paths)
	}
	if len(paths) == 0 {
		return nil, prefix(fmt.Errorf("no saved paths: %w", ErrNotExist))
	}
	m, err := systemd.Load(cfg, id, paths)
	if err != nil {
		return nil, prefix(err)
	}
	return wrap(m), nil
}

// IsFrozen reports whether the cgroup of the saved paths is frozen (see
// Manager.IsFrozen) without building a manager where it need not: on
// cgroup v1 it reads the freezer hierarchy's directory. `list` asks it of
// every container.
func IsFrozen(paths map[string]string) (bool, error) {
	if dir, ok := paths["freezer"]; ok {
		frozen, err := fs1.IsFrozenDir(dir)
		return frozen, prefix(err)
	}
	m, err := Load(paths)
	if err != nil {
		return false, err
	}
	return m.IsFrozen()
}

// AddProcess moves pid into the existing cgroups of paths (the Paths()
// of a manager, or of its sub-cgroups): on cgroup v1 only the cgroup.procs
// writes (fs1.AddPid); on cgroup v2 the manager's Apply.
func AddProcess(paths map[string]string, pid int) error {
	if _, onlyUnified := paths[""]; onlyUnified && len(paths) == 1 {
		m, err := Load(paths)
		if err != nil {
			return err
		}
		return m.Apply(pid)
	}
	if len(paths) == 0 {
		return prefix(fmt.Errorf("no saved paths: %w", ErrNotExist))
	}
	return prefix(fs1.AddPid(paths, pid))
}

// SelfJoinFiles is AddProcess for a single-threaded child that moves
// itself (exec's C stage): on cgroup v1, the `tasks` files it writes "0"
// to and the hybrid host's cgroup2 directory (see fs1.SelfJoinFiles);
// ok is false on a pure cgroup v2 host.
func SelfJoinFiles(paths map[string]string) (tasks []string, unified string, ok bool, err error) {
	if _, onlyUnified := paths[""]; (onlyUnified && len(paths) == 1) || len(paths) == 0 {
		return nil, "", false, nil
	}
	tasks, unified, err = fs1.SelfJoinFiles(paths)
	return tasks, unified, err == nil, prefix(err)
}

// Load rebuilds the manager of an existing container from the Paths()
// saved in its state: {"": dir} alone is a cgroup v2 manager's (a
// hybrid v1 host always has v1 keys besides "").
func Load(paths map[string]string) (Manager, error) {
	if len(paths) == 0 {
		return nil, prefix(fmt.Errorf("no saved paths: %w", ErrNotExist))
	}
	if _, onlyUnified := paths[""]; onlyUnified && len(paths) == 1 {
		m, err := fs2.Load(paths)
		if err != nil {
			return nil, prefix(err)
		}
		return wrap(m), nil
	}
	m, err := fs1.Load(paths)
	if err != nil {
		return nil, prefix(err)
	}
	return wrap(m), nil
}
