// Package specconv turns an OCI bundle's config.json into rt's internal
// configuration (package configs), validating every field on the way: bad
// input is refused here, before anything exists on the host.
package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// ErrInvalidConfig wraps every validation failure of config.json.
var ErrInvalidConfig = errors.New("invalid config.json")

// Options carries the command-line settings that shape the config.
type Options struct {
	ID            string
	NoPivot       bool
	NoNewKeyring  bool
	SystemdCgroup bool
}

// LoadSpec reads and decodes <bundle>/config.json. Trailing data and a
// missing file are refused. Properties the runtime-spec does not define are
// ignored, as its config.md ("Extensibility") requires of runtimes, and as
// runc does; those it defines for other platforms are refused by Convert.
func LoadSpec(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, "config.json")
	data, err := readBounded(path, maxConfigFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("JSON specification file %s not found: %w", path, err)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if spec, ok := decodeSpec(data); ok {
		return spec, nil
	}
	var spec specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse %s: trailing data after the JSON object", path)
	}
	return &spec, nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// CheckVersion accepts ociVersion 1.0.0 up to the runtime-spec version rt is
// built with (1.x, minor <= specs.VersionMinor).
func CheckVersion(v string) error {
	if v == "" {
		return invalid("ociVersion", "must be set")
	}
	core := v
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return invalid("ociVersion", "%q is not a semantic version", v)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return invalid("ociVersion", "%q is not a semantic version", v)
		}
		n[i] = x
	}
	if n[0] != specs.VersionMajor || n[1] > specs.VersionMinor {
		return invalid("ociVersion", "%q is not supported: rt supports 1.0.0 to %s", v, specs.Version)
	}
	return nil
}

var nsFlags = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

// Convert validates spec (of the bundle at bundle, an absolute path) and
// returns rt's internal configuration.
func Convert(spec *specs.Spec, bundle string, opts Options) (*configs.Config, error) {
	if err := CheckSizes(spec, ""); err != nil {
		return nil, err
	}
	if err := CheckVersion(spec.Version); err != nil {
		return nil, err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, invalid("root.path", "must be set")
	}
	if spec.Process == nil {
		return nil, invalid("process", "must be set: rt needs a process to create a container")
	}
	if spec.Linux == nil {
		return nil, invalid("linux", "must be set on Linux")
	}
	if err := refuseOtherPlatforms(spec); err != nil {
		return nil, err
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	rootfs = filepath.Clean(rootfs)
	if real, err := filepath.EvalSymlinks(rootfs); err == nil {
		rootfs = real
	}
	fi, err := os.Stat(rootfs)
	if err != nil {
		return nil, invalid("root.path", "rootfs %s: %v", rootfs, err)
	}
	if !fi.IsDir() {
		return nil, invalid("root.path", "rootfs %s is not a directory", rootfs)
	}

	c := &configs.Config{
		ID:           opts.ID,
		Bundle:       bundle,
		Rootfs:       rootfs,
		Readonly:     spec.Root.Readonly,
		NoPivot:      opts.NoPivot,
		NoNewKeyring: opts.NoNewKeyring,
		Hostname:     spec.Hostname,
		Domainname:   spec.Domainname,
		Process:      spec.Process,
		Annotations:  spec.Annotations,
		OCIVersion:   spec.Version,
	}
	if err := convertProcess(spec.Process); err != nil {
		return nil, err
	}
	if err := convertLinux(c, spec.Linux); err != nil {
		return nil, err
	}
	c.Cgroup.Systemd = opts.SystemdCgroup
	if opts.SystemdCgroup {
		for k, v := range spec.Annotations {
			if strings.HasPrefix(k, "org.systemd.property.") {
				if c.Cgroup.SystemdProps == nil {
					c.Cgroup.SystemdProps = map[string]string{}
				}
				c.Cgroup.SystemdProps[k] = v
			}
		}
	}
	for i, m := range spec.Mounts {
		cm, err := ConvertMount(m, bundle)
		if err != nil {
			return nil, fmt.Errorf("%w: mounts[%d]: %w", ErrInvalidConfig, i, err)
		}
		c.Mounts = append(c.Mounts, cm)
	}
	for i, m := range c.Mounts {
		// With mappings of its own, the mount gets a user namespace made
		// for it (runc 1.2+): the container needs none.
		if m.IDMap && len(m.UIDMappings) == 0 && c.NamespaceOf(specs.UserNamespace) == nil {
			return nil, invalid(fmt.Sprintf("mounts[%d]", i), "idmapped mount of %q needs a user namespace", m.Destination)
		}
	}
	if err := convertHooks(c, spec.Hooks); err != nil {
		return nil, err
	}
	if c.Hostname != "" && c.NamespaceOf(specs.UTSNamespace) == nil {
		return nil, invalid("hostname", "setting the hostname needs a private uts namespace")
	}
	if c.Domainname != "" && c.NamespaceOf(specs.UTSNamespace) == nil {
		return nil, invalid("domainname", "setting the domainname needs a private uts namespace")
	}
	return c, nil
}

func convertLinux(c *configs.Config, l *specs.Linux) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range l.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		if !nsFlags[ns.Type] {
			return invalid(field+".type", "unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return invalid(field+".type", "namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" {
			if !filepath.IsAbs(ns.Path) {
				return invalid(field+".path", "%q is not absolute", ns.Path)
			}
			if _, err := os.Stat(ns.Path); err != nil {
				return invalid(field+".path", "%v", err)
			}
		}
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: ns.Type, Path: ns.Path})
	}
	if c.HasNewNamespace(specs.UserNamespace) {
		if len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
			return invalid("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
		}
	} else if len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0 {
		if c.NamespaceOf(specs.UserNamespace) == nil {
			return invalid("linux.uidMappings", "mappings are set but there is no user namespace")
		}
	}
	c.UIDMappings = l.UIDMappings
	c.GIDMappings = l.GIDMappings
	if len(l.TimeOffsets) > 0 {
		if !c.HasNewNamespace(specs.TimeNamespace) {
			return invalid("linux.timeOffsets", "time offsets need a new time namespace")
		}
		for _, clock := range slices.Sorted(maps.Keys(l.TimeOffsets)) {
			if clock != "monotonic" && clock != "boottime" {
				return invalid("linux.timeOffsets", "unknown clock %q (monotonic or boottime)", clock)
			}
		}
		c.TimeOffsets = l.TimeOffsets
	}
	// Maps are checked in key order: the first fault named is the same
	// every time (FuzzConvert checks Convert is deterministic).
	for _, key := range slices.Sorted(maps.Keys(l.Sysctl)) {
		if err := checkSysctl(c, key); err != nil {
			return err
		}
	}
	c.Sysctl = l.Sysctl
	if err := convertNetDevices(c, l.NetDevices); err != nil {
		return err
	}
	c.Devices = l.Devices
	for i, d := range l.Devices {
		field := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) {
			return invalid(field+".path", "%q is not absolute", d.Path)
		}
		switch d.Type {
		case "c", "u", "b", "p":
		default:
			return invalid(field+".type", "unknown device type %q (c, u, b or p)", d.Type)
		}
	}
	c.MaskedPaths = l.MaskedPaths
	c.ReadonlyPaths = l.ReadonlyPaths
	c.MountLabel = l.MountLabel
	c.Seccomp = l.Seccomp
	c.Personality = l.Personality
	if err := validateLinuxExtras(l); err != nil {
		return err
	}
	if err := convertMemoryPolicy(c, l); err != nil {
		return err
	}
	if err := convertIntelRdt(c, l); err != nil {
		return err
	}
	switch l.RootfsPropagation {
	case "":
	default:
		flag, ok := rootPropagation[l.RootfsPropagation]
		if !ok {
			return invalid("linux.rootfsPropagation", "unknown propagation %q", l.RootfsPropagation)
		}
		c.RootPropagation = flag
	}
	c.Cgroup.Path = l.CgroupsPath
	res, err := convertResources(l.Resources)
	if err != nil {
		return err
	}
	c.Cgroup.Resources = res
	return nil
}

var rootPropagation = map[string]uintptr{
	"private":     unix.MS_PRIVATE | unix.MS_REC,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"slave":       unix.MS_SLAVE | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"shared":      unix.MS_SHARED | unix.MS_REC,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// checkSysctl refuses sysctls that would change the host: only
// namespaced keys are allowed, and only with the namespace they belong to.
func checkSysctl(c *configs.Config, key string) error {
	field := fmt.Sprintf("linux.sysctl[%q]", key)
	ipc := map[string]bool{
		"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
		"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
		"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	}
	switch {
	case ipc[key] || strings.HasPrefix(key, "fs.mqueue."):
		if !c.HasNewNamespace(specs.IPCNamespace) && c.NamespaceOf(specs.IPCNamespace) == nil {
			return invalid(field, "needs an ipc namespace")
		}
	case strings.HasPrefix(key, "net."):
		if c.NamespaceOf(specs.NetworkNamespace) == nil {
			return invalid(field, "needs a network namespace")
		}
	case key == "kernel.hostname" || key == "kernel.domainname":
		if c.NamespaceOf(specs.UTSNamespace) == nil {
			return invalid(field, "needs a uts namespace")
		}
		if key == "kernel.hostname" {
			// As runc: the hostname field says it.
			return invalid(field, "is not allowed: it conflicts with the hostname field")
		}
	case strings.HasPrefix(key, "user."):
		// The user.max_* limits belong to the user namespace (runc 1.5).
		if c.NamespaceOf(specs.UserNamespace) == nil {
			return invalid(field, "needs a user namespace")
		}
	default:
		return invalid(field, "is not namespaced: it would change the host")
	}
	return nil
}

func convertHooks(c *configs.Config, h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	check := func(kind string, hooks []specs.Hook) error {
		for i, hk := range hooks {
			if !filepath.IsAbs(hk.Path) {
				return invalid(fmt.Sprintf("hooks.%s[%d].path", kind, i), "%q is not absolute", hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return invalid(fmt.Sprintf("hooks.%s[%d].timeout", kind, i), "must be positive")
			}
		}
		return nil
	}
	// A slice, not a map: the first error named must not depend on map order
	// (FuzzConvert checks Convert is deterministic).
	for _, k := range []struct {
		kind  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	} {
		if err := check(k.kind, k.hooks); err != nil {
			return err
		}
	}
	c.Hooks = configs.Hooks{
		Prestart: h.Prestart, CreateRuntime: h.CreateRuntime, CreateContainer: h.CreateContainer,
		StartContainer: h.StartContainer, Poststart: h.Poststart, Poststop: h.Poststop,
	}
	return nil
}
