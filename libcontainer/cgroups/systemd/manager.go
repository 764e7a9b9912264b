package systemd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/cgroups/fs1"
	"github.com/rt-runtime/rt/libcontainer/cgroups/fs2"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/events"
)

// fsManager is the cgroupfs manager (fs2 or fs1) under the unit; it is
// rt's cgroups.Manager, redeclared here to avoid an import cycle.
type fsManager interface {
	Apply(pid int) error
	Set(r *specs.LinuxResources) error
	Destroy() error
	Paths() map[string]string
	GetPids() ([]int, error)
	Exists() bool
	Freeze() error
	Thaw() error
	IsFrozen() (bool, error)
	EffectivelyFrozen() (bool, error)
	Stats() (*events.Stats, error)
	NotifyOOM() (<-chan struct{}, error)
}

// Manager is a container's cgroup as a systemd unit. Apply starts the
// unit with the init in it; Set sets unit properties, then the files;
// Destroy stops the unit; the rest is read from / written to the
// cgroup directory systemd made (freezing uses cgroup.freeze, as runc).
type Manager struct {
	fsManager
	unit     Unit
	v2       bool
	rootless bool
	dbus     *conn
	// cfg is the container's cgroup config (Path is the unit's cgroup
	// path once known).
	cfg       configs.Cgroup
	annProps  []property
	sdVersion int
	// owned: the unit is this container's (Apply started it, or the
	// manager was loaded from the container's state). Destroy never
	// stops a unit of the same name that rt did not start.
	owned bool
	// loaded: rebuilt from a container's state (Apply only joins).
	loaded bool
}

// New resolves the container's unit from cfg (cgroupsPath
// "slice:prefix:name"); nothing is started until Apply. Rootless (euid
// != 0) containers use the user's systemd instance.
func New(cfg *configs.Cgroup, id string) (*Manager, error) {
	if !IsRunning() {
		return nil, ErrNotRunning
	}
	rootless := os.Geteuid() != 0
	u, err := ParseUnit(cfg.Path, id, rootless)
	if err != nil {
		return nil, err
	}
	ann, err := AnnotationProperties(cfg.SystemdProps)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		unit: u, v2: cgutil.IsUnifiedMode(), rootless: rootless,
		dbus: connFor(rootless), cfg: *cfg, annProps: ann, sdVersion: -2,
	}
	// the fs manager over the cgroup the unit will have: the checks
	// before start-up (an existing cgroup in use, frozen) look there
	path, err := m.cgroupPath()
	if err != nil {
		return nil, err
	}
	c := m.cfg
	c.Path, c.Systemd = path, false
	if m.v2 {
		f, err := fs2.New(&c, "")
		if err != nil {
			return nil, err
		}
		m.fsManager = f
	} else {
		f, err := fs1.New(&c, "")
		if err != nil {
			return nil, err
		}
		m.fsManager = f
	}
	return m, nil
}

// Load rebuilds the manager of an existing container from its config and
// the cgroup paths saved in its state.
func Load(cfg *configs.Cgroup, id string, paths map[string]string) (*Manager, error) {
	rootless := os.Geteuid() != 0
	u, err := ParseUnit(cfg.Path, id, rootless)
	if err != nil {
		return nil, err
	}
	m := &Manager{unit: u, rootless: rootless, dbus: connFor(rootless), cfg: *cfg, sdVersion: -2, owned: true, loaded: true}
	if _, ok := paths[""]; ok && len(paths) == 1 {
		m.v2 = true
		fm, err := fs2.Load(paths)
		if err != nil {
			return nil, err
		}
		m.fsManager = fm
	} else {
		fm, err := fs1.Load(paths)
		if err != nil {
			return nil, err
		}
		m.fsManager = fm
	}
	return m, nil
}

func (m *Manager) version() int {
	if m.sdVersion == -2 {
		m.sdVersion = m.dbus.version()
	}
	return m.sdVersion
}

// cgroupPath is the unit's cgroup path from the hierarchy's root: for
// systemd --user, below the user manager's own cgroup.
func (m *Manager) cgroupPath() (string, error) {
	p := m.unit.Path()
	if m.rootless {
		base, err := m.dbus.managerProperty("ControlGroup")
		if err != nil {
			return "", err
		}
		p = filepath.Join(base, p)
	}
	return p, nil
}

// Apply starts the unit with pid as its process (Delegate=yes, the
// accounting runc turns on, DefaultDependencies=no, the annotations'
// properties), then makes the fs manager over the unit's cgroup. pid
// <= 0 is only allowed for a slice (a scope needs a process).
func (m *Manager) Apply(pid int) error {
	if m.loaded {
		// an existing container's (exec --cgroup): just join
		return m.fsManager.Apply(pid)
	}
	if pid <= 0 && !m.unit.IsSlice() {
		return fmt.Errorf("systemd scope %s: needs the container's init pid", m.unit.Name)
	}
	props := []property{prop("Description", "rt container "+m.unit.Name)}
	if m.unit.IsSlice() {
		props = append(props, prop("Wants", []string{m.unit.Slice}))
	} else {
		props = append(props, prop("Slice", m.unit.Slice), prop("Delegate", true))
	}
	if pid > 0 && !m.unit.IsSlice() {
		// the init is in the scope from its start (a slice takes no
		// PIDs: the fs manager moves the init into it below)
		props = append(props, prop("PIDs", []uint32{uint32(pid)}))
	}
	props = append(props,
		prop("MemoryAccounting", true), prop("CPUAccounting", true),
		prop("IOAccounting", true), prop("TasksAccounting", true),
		prop("DefaultDependencies", false))
	if r := m.cfg.Resources; r != nil && m.v2 {
		if v, ok := r.Unified["memory.oom.group"]; ok {
			switch v {
			case "0":
				props = append(props, prop("OOMPolicy", "continue"))
			case "1":
				props = append(props, prop("OOMPolicy", "kill"))
			}
		}
	}
	props = append(props, m.annProps...)
	if err := m.dbus.startUnit(m.unit.Name, props, pid <= 0); err != nil {
		return err
	}
	m.owned = true
	// systemd made the unit's cgroup (v1: in the hierarchies it
	// manages); this enables the controllers the resources need and
	// (v1) puts the init into the other hierarchies
	if err := m.fsManager.Apply(pid); err != nil {
		err = fmt.Errorf("systemd unit %s: %w", m.unit.Name, err)
		if derr := m.Destroy(); derr != nil {
			return errors.Join(err, fmt.Errorf("stop the unit again: %w", derr))
		}
		return err
	}
	return nil
}

// Set sets the resources systemd knows as unit properties (runtime
// ones: nothing is written to /etc), then writes every resource to the
// cgroup files.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if m.rootless && len(r.Devices) > 0 {
		// an unprivileged user can attach no device program (neither can
		// its systemd --user): as runc, rootless containers have no device
		// cgroup policy (their user namespace limits devices instead)
		rc := *r
		rc.Devices = nil
		r = &rc
	}
	dir := ""
	if m.v2 {
		dir = m.fsManager.Paths()[""]
	}
	ver := anyVersion
	if needsVersion(r) {
		ver = m.version()
	}
	props, err := resourceProps(r, m.v2, ver, dir)
	if err != nil {
		return err
	}
	if err := m.dbus.setProperties(m.unit.Name, props); err != nil {
		return fmt.Errorf("set properties of unit %s: %w", m.unit.Name, err)
	}
	return m.fsManager.Set(r)
}

// Destroy stops the unit (bounded wait for systemd's job, then
// reset-failed so that systemd forgets it) and removes what is left of
// the cgroup (sub-cgroups the container made).
func (m *Manager) Destroy() error {
	if !m.owned {
		// not started (a unit of that name belongs to someone else)
		return nil
	}
	err := m.dbus.stopUnit(m.unit.Name)
	if ferr := m.fsManager.Destroy(); ferr != nil && err == nil {
		err = ferr
	}
	if err == nil {
		m.owned = false
	}
	return err
}
