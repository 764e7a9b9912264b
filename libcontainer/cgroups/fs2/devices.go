package fs2

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/devices"
)

// setDevices replaces the cgroup's device policy with one built from
// rules: a BPF_PROG_TYPE_CGROUP_DEVICE program (see deviceFilter)
// attached with BPF_F_ALLOW_MULTI, after which every program attached
// before it is detached, so the cgroup is never left without a policy.
// An empty rule list leaves the cgroup as it is (create always passes
// the default allow-list; update passes none). A policy that allows
// everything attaches no program. The attachment (BPF_PROG_ATTACH, not
// a bpf_link) holds the program after rt exits.
func setDevices(dir string, rules []specs.LinuxDeviceCgroup) error {
	if len(rules) == 0 {
		return nil
	}
	_, policy, err := devices.Compile(rules)
	if err != nil {
		return err
	}
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	old, err := attachedDevicePrograms(cg)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %s: %w", dir, err)
	}
	defer func() {
		for _, p := range old {
			unix.Close(p)
		}
	}()
	if !policy.AllowsAll() {
		prog, err := loadDeviceProgram(deviceFilter(policy))
		if err != nil {
			return fmt.Errorf("linux.resources.devices: load eBPF device program: %w", err)
		}
		defer unix.Close(prog)
		if err := attachDeviceProgram(cg, prog); err != nil {
			return fmt.Errorf("linux.resources.devices: attach eBPF device program to %s: %w", dir, err)
		}
	}
	for _, p := range old {
		if err := detachDeviceProgram(cg, p); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("linux.resources.devices: detach the previous device program from %s: %w", dir, err)
		}
	}
	return nil
}
