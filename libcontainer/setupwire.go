package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// The set-up child decodes its configuration (initView's config and
// setupProcess's process, as JSON) into the types below rather than into
// configs.Config and specs.Process. encoding/json, at the first decoding
// into a struct type, builds the field tables and encoders of every type
// reachable from it: from configs.Config that is the whole of the OCI
// resources, seccomp and process types, 0.5-0.8 ms in a fresh process even
// for "{}", on the critical path of every create. These types reach only
// what initView sends. TestSetupWireCarriesInitView checks, field by field
// over a config with every field set, that nothing initView keeps is lost
// on the way.

// setupWire is initConfig as the set-up child decodes it.
type setupWire struct {
	Config         *setupWireConfig  `json:"config"`
	Process        *setupWireProcess `json:"process"`
	HasParentHooks bool              `json:"has_parent_hooks,omitempty"`
	State          *specs.State      `json:"state,omitempty"`
}

// setupWireConfig holds the fields of configs.Config that initView keeps,
// with the same JSON names.
type setupWireConfig struct {
	ID              string                           `json:"id"`
	Bundle          string                           `json:"bundle"`
	Rootfs          string                           `json:"rootfs"`
	Readonly        bool                             `json:"readonly,omitempty"`
	RootPropagation uintptr                          `json:"root_propagation,omitempty"`
	NoPivot         bool                             `json:"no_pivot,omitempty"`
	NoNewKeyring    bool                             `json:"no_new_keyring,omitempty"`
	Namespaces      []configs.Namespace              `json:"namespaces,omitempty"`
	UIDMappings     []specs.LinuxIDMapping           `json:"uid_mappings,omitempty"`
	GIDMappings     []specs.LinuxIDMapping           `json:"gid_mappings,omitempty"`
	TimeOffsets     map[string]specs.LinuxTimeOffset `json:"time_offsets,omitempty"`
	Mounts          []*configs.Mount                 `json:"mounts,omitempty"`
	Devices         []specs.LinuxDevice              `json:"devices,omitempty"`
	MaskedPaths     []string                         `json:"masked_paths,omitempty"`
	ReadonlyPaths   []string                         `json:"readonly_paths,omitempty"`
	MountLabel      string                           `json:"mount_label,omitempty"`
	Hostname        string                           `json:"hostname,omitempty"`
	Domainname      string                           `json:"domainname,omitempty"`
	Sysctl          map[string]string                `json:"sysctl,omitempty"`
	Cgroup          setupWireCgroup                  `json:"cgroup"`
	Hooks           setupWireHooks                   `json:"hooks"`
	OCIVersion      string                           `json:"ociVersion"`
}

// setupWireCgroup is configs.Cgroup without its Resources (initView drops
// them).
type setupWireCgroup struct {
	Path         string            `json:"path"`
	Systemd      bool              `json:"systemd,omitempty"`
	SystemdProps map[string]string `json:"systemd_props,omitempty"`
}

// setupWireHooks: initView keeps only the createContainer hooks.
type setupWireHooks struct {
	CreateContainer []specs.Hook `json:"createContainer,omitempty"`
}

// setupWireProcess holds the fields of specs.Process that setupProcess
// keeps, with the same JSON names.
type setupWireProcess struct {
	Terminal    bool       `json:"terminal,omitempty"`
	ConsoleSize *specs.Box `json:"consoleSize,omitempty"`
	User        specs.User `json:"user"`
	Env         []string   `json:"env,omitempty"`
	Cwd         string     `json:"cwd"`
}

// setupProcess is the part of the process the Go set-up child uses: the
// pty (terminal, its size and owner), the environment of createContainer
// hooks, the cwd it creates. The C init applies the rest from the plan.
func setupProcess(p *specs.Process) *specs.Process {
	if p == nil {
		return nil
	}
	return &specs.Process{Terminal: p.Terminal, ConsoleSize: p.ConsoleSize, User: p.User, Env: p.Env, Cwd: p.Cwd}
}

// initConfig rebuilds what the parent sent.
func (w *setupWire) initConfig() *initConfig {
	ic := &initConfig{HasParentHooks: w.HasParentHooks, State: w.State}
	if c := w.Config; c != nil {
		ic.Config = &configs.Config{
			ID: c.ID, Bundle: c.Bundle, Rootfs: c.Rootfs, Readonly: c.Readonly,
			RootPropagation: c.RootPropagation, NoPivot: c.NoPivot, NoNewKeyring: c.NoNewKeyring,
			Namespaces: c.Namespaces, UIDMappings: c.UIDMappings, GIDMappings: c.GIDMappings,
			TimeOffsets: c.TimeOffsets, Mounts: c.Mounts, Devices: c.Devices,
			MaskedPaths: c.MaskedPaths, ReadonlyPaths: c.ReadonlyPaths, MountLabel: c.MountLabel,
			Hostname: c.Hostname, Domainname: c.Domainname, Sysctl: c.Sysctl,
			Cgroup:     configs.Cgroup{Path: c.Cgroup.Path, Systemd: c.Cgroup.Systemd, SystemdProps: c.Cgroup.SystemdProps},
			Hooks:      configs.Hooks{CreateContainer: c.Hooks.CreateContainer},
			OCIVersion: c.OCIVersion,
		}
	}
	if p := w.Process; p != nil {
		ic.Process = &specs.Process{Terminal: p.Terminal, ConsoleSize: p.ConsoleSize, User: p.User, Env: p.Env, Cwd: p.Cwd}
	}
	return ic
}
