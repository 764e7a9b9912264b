package specconv

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

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
