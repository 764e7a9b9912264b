// Package configs holds rt's internal container configuration: the OCI spec
// after validation and translation (see package specconv). The init process
// receives it as JSON over its init pipe, so every field must serialise.
package configs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NamespaceType is an OCI namespace type ("pid", "network", ...).
type NamespaceType = specs.LinuxNamespaceType

// Namespace is a namespace the container gets: new when Path is empty,
// joined through Path otherwise.
type Namespace struct {
	Type NamespaceType `json:"type"`
	Path string        `json:"path,omitempty"`
}

// Mount is one entry of the spec's mounts, with its options parsed.
type Mount struct {
	// Source as written in the spec; for bind mounts it is made absolute
	// against the bundle directory.
	Source string `json:"source"`
	// Destination is absolute and clean, relative to the container's root.
	Destination string `json:"destination"`
	// Device is the filesystem type ("proc", "tmpfs", "bind", ...).
	Device string `json:"device"`
	// Flags are the MS_* flags for mount(2) (MS_BIND/MS_REC included).
	Flags uintptr `json:"flags"`
	// ClearedFlags are MS_* flags the options explicitly turned off
	// (e.g. "rw", "suid"): used when remounting a bind mount.
	ClearedFlags uintptr `json:"cleared_flags,omitempty"`
	// PropagationFlags are applied one by one after the mount
	// (MS_SHARED, MS_PRIVATE, ... possibly with MS_REC).
	PropagationFlags []uintptr `json:"propagation_flags,omitempty"`
	// Data is the filesystem-specific option string.
	Data string `json:"data,omitempty"`
	// RecAttrSet / RecAttrClr are MOUNT_ATTR_* bits applied recursively with
	// mount_setattr(AT_RECURSIVE) for the "r*" options (rro, rnosuid, ...).
	RecAttrSet uint64 `json:"rec_attr_set,omitempty"`
	RecAttrClr uint64 `json:"rec_attr_clr,omitempty"`
	// Extensions are rt/runc-specific options.
	TmpcopyUp bool `json:"tmpcopyup,omitempty"`
	// IDMap: an idmapped bind mount ("idmap"/"ridmap" or uidMappings set).
	// Without UID/GIDMappings it uses the container's user namespace.
	IDMap bool `json:"idmap,omitempty"`
	// IDMapFd is the detached, idmapped mount tree the parent prepared
	// (open_tree + mount_setattr), received by the init: not serialised.
	IDMapFd int `json:"-"`
	// SourceTree: the runtime's parent, on the host, cloned the bind
	// source (open_tree) for the init, which attaches it like an idmapped
	// tree (IDMapFd): a container in a user namespace could not open a
	// source only the host's root can reach.
	SourceTree     bool                   `json:"source_tree,omitempty"`
	UIDMappings    []specs.LinuxIDMapping `json:"uid_mappings,omitempty"`
	GIDMappings    []specs.LinuxIDMapping `json:"gid_mappings,omitempty"`
	IDMapRecursive bool                   `json:"idmap_recursive,omitempty"`
}

// IsBind reports whether m is a bind mount.
func (m *Mount) IsBind() bool {
	return m.Flags&unix.MS_BIND != 0
}

// Hooks are the OCI hooks, by lifecycle point.
type Hooks struct {
	Prestart        []specs.Hook `json:"prestart,omitempty"`
	CreateRuntime   []specs.Hook `json:"createRuntime,omitempty"`
	CreateContainer []specs.Hook `json:"createContainer,omitempty"`
	StartContainer  []specs.Hook `json:"startContainer,omitempty"`
	Poststart       []specs.Hook `json:"poststart,omitempty"`
	Poststop        []specs.Hook `json:"poststop,omitempty"`
}

// Cgroup says where the container's cgroup is and what goes in it.
type Cgroup struct {
	// Path is the spec's cgroupsPath (may be empty: a default is derived
	// from the container id).
	Path string `json:"path"`
	// Systemd is true with --systemd-cgroup ("slice:prefix:name" paths).
	Systemd bool `json:"systemd,omitempty"`
	// SystemdProps are the org.systemd.property.* annotations (key ->
	// GVariant text), unit properties for the systemd driver.
	SystemdProps map[string]string `json:"systemd_props,omitempty"`
	// Resources are the limits to apply (nil: none).
	Resources *specs.LinuxResources `json:"resources,omitempty"`
}

// Config is everything rt needs to create one container.
type Config struct {
	// ID of the container.
	ID string `json:"id"`
	// Bundle is the absolute bundle directory.
	Bundle string `json:"bundle"`
	// Rootfs is the absolute path of the root filesystem.
	Rootfs   string `json:"rootfs"`
	Readonly bool   `json:"readonly,omitempty"`
	// RootPropagation is the MS_* propagation for "/" (0: MS_SLAVE|MS_REC, as runc).
	RootPropagation uintptr `json:"root_propagation,omitempty"`
	// NoPivot: use MS_MOVE + chroot instead of pivot_root.
	NoPivot      bool `json:"no_pivot,omitempty"`
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`

	Namespaces  []Namespace            `json:"namespaces,omitempty"`
	UIDMappings []specs.LinuxIDMapping `json:"uid_mappings,omitempty"`
	GIDMappings []specs.LinuxIDMapping `json:"gid_mappings,omitempty"`
	// TimeOffsets by clock name ("monotonic", "boottime").
	TimeOffsets map[string]specs.LinuxTimeOffset `json:"time_offsets,omitempty"`

	Mounts        []*Mount            `json:"mounts,omitempty"`
	Devices       []specs.LinuxDevice `json:"devices,omitempty"`
	MaskedPaths   []string            `json:"masked_paths,omitempty"`
	ReadonlyPaths []string            `json:"readonly_paths,omitempty"`
	MountLabel    string              `json:"mount_label,omitempty"`
	Hostname      string              `json:"hostname,omitempty"`
	Domainname    string              `json:"domainname,omitempty"`
	Sysctl        map[string]string   `json:"sysctl,omitempty"`
	// NetDevices are host network devices (by host name) moved into the
	// container's network namespace by the parent (linux.netDevices).
	NetDevices  map[string]specs.LinuxNetDevice `json:"net_devices,omitempty"`
	Seccomp     *specs.LinuxSeccomp             `json:"seccomp,omitempty"`
	Personality *specs.LinuxPersonality         `json:"personality,omitempty"`
	// MemoryPolicy is linux.memoryPolicy, parsed (nil: none).
	MemoryPolicy *MemoryPolicy `json:"memory_policy,omitempty"`
	// IntelRdt is linux.intelRdt as the spec has it (nil: none).
	IntelRdt *specs.LinuxIntelRdt `json:"intel_rdt,omitempty"`
	Cgroup   Cgroup               `json:"cgroup"`
	Hooks    Hooks                `json:"hooks"`
	// Process is the container's main process (nil only for an invalid
	// config: create requires it, as runc does).
	Process *specs.Process `json:"process,omitempty"`
	// Annotations of the spec, reported by `state`.
	Annotations map[string]string `json:"annotations,omitempty"`
	// OCIVersion of the spec, reported by `state`.
	OCIVersion string `json:"ociVersion"`
}

// MemoryPolicy is the NUMA policy the init sets with set_mempolicy(2).
type MemoryPolicy struct {
	// Mode is the MPOL_* mode with its MPOL_F_* flags or'ed in.
	Mode int `json:"mode"`
	// Nodes is the node mask, one bit per node, 64 nodes per word.
	Nodes []uint64 `json:"nodes,omitempty"`
}

// NamespaceOf returns the namespace of type t, or nil if the config has none.
func (c *Config) NamespaceOf(t NamespaceType) *Namespace {
	for i := range c.Namespaces {
		if c.Namespaces[i].Type == t {
			return &c.Namespaces[i]
		}
	}
	return nil
}

// HasNewNamespace reports whether the config creates a new namespace of type t.
func (c *Config) HasNewNamespace(t NamespaceType) bool {
	ns := c.NamespaceOf(t)
	return ns != nil && ns.Path == ""
}
