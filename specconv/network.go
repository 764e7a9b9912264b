package specconv

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/netdev"
	"github.com/rt-runtime/rt/network/netconf"
)

// hookTimeout bounds each rt-net hook (seconds).
const hookTimeout = 30

// AddBridgeNetwork makes spec use rt's bridge network: the rt-net hook
// (hookPath, absolute) at createRuntime (set-up) and poststop (tear-down),
// and cfg as annotations. The spec must have a new network namespace.
func AddBridgeNetwork(spec *specs.Spec, hookPath string, cfg *netconf.Config) error {
	if !filepath.IsAbs(hookPath) {
		return fmt.Errorf("rt-net hook path %q is not absolute", hookPath)
	}
	if spec.Linux == nil {
		return fmt.Errorf("bridge network: the spec has no linux section")
	}
	hasNetns := false
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" {
			hasNetns = true
		}
	}
	if !hasNetns {
		return fmt.Errorf("bridge network: linux.namespaces has no new network namespace")
	}
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	for k, v := range cfg.Annotations() {
		spec.Annotations[k] = v
	}
	// Round trip: what the hook will parse is what was asked for.
	if _, err := netconf.Parse(spec.Annotations); err != nil {
		return err
	}
	if spec.Hooks == nil {
		spec.Hooks = &specs.Hooks{}
	}
	t := hookTimeout
	spec.Hooks.CreateRuntime = append(spec.Hooks.CreateRuntime, specs.Hook{Path: hookPath, Args: []string{"rt-net", "setup"}, Timeout: &t})
	spec.Hooks.Poststop = append(spec.Hooks.Poststop, specs.Hook{Path: hookPath, Args: []string{"rt-net", "teardown"}, Timeout: &t})
	return nil
}

// convertNetDevices validates linux.netDevices (as runc 1.3 does, plus
// unique names in the container) into c.
func convertNetDevices(c *configs.Config, devs map[string]specs.LinuxNetDevice) error {
	if len(devs) == 0 {
		return nil
	}
	ns := c.NamespaceOf(specs.NetworkNamespace)
	if ns == nil {
		return invalid("linux.netDevices", "unable to move network devices without a private NET namespace")
	}
	if ns.Path != "" {
		var self, other unix.Stat_t
		if unix.Stat("/proc/self/ns/net", &self) == nil && unix.Stat(ns.Path, &other) == nil &&
			self.Dev == other.Dev && self.Ino == other.Ino {
			return invalid("linux.netDevices", "the network namespace %s is the runtime's own: devices cannot move into it", ns.Path)
		}
	}
	inside := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(devs)) {
		d := devs[name]
		field := fmt.Sprintf("linux.netDevices[%q]", name)
		if !netdev.ValidName(name) {
			return invalid(field, "invalid network device name %q", name)
		}
		target := name
		if d.Name != "" {
			if !netdev.ValidName(d.Name) {
				return invalid(field+".name", "invalid network device name %q", d.Name)
			}
			target = d.Name
		}
		if other, dup := inside[target]; dup {
			return invalid(field+".name", "%q is also the name of %q in the container", target, other)
		}
		inside[target] = name
	}
	c.NetDevices = devs
	return nil
}
