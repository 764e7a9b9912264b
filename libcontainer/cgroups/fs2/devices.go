package fs2

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
	policy, err := compileDeviceRules(rules)
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
			p.Close()
		}
	}()
	if !(policy.defaultAllow && len(policy.exceptions) == 0) {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name:         "rt_devices",
			Type:         ebpf.CGroupDevice,
			License:      "Apache",
			Instructions: deviceFilter(policy),
		})
		if err != nil {
			return fmt.Errorf("linux.resources.devices: load eBPF device program: %w", err)
		}
		defer prog.Close()
		err = link.RawAttachProgram(link.RawAttachProgramOptions{
			Target:  cg,
			Program: prog,
			Attach:  ebpf.AttachCGroupDevice,
			Flags:   unix.BPF_F_ALLOW_MULTI,
		})
		if err != nil {
			return fmt.Errorf("linux.resources.devices: attach eBPF device program to %s: %w", dir, err)
		}
	}
	for _, p := range old {
		err := link.RawDetachProgram(link.RawDetachProgramOptions{
			Target:  cg,
			Program: p,
			Attach:  ebpf.AttachCGroupDevice,
		})
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("linux.resources.devices: detach the previous device program from %s: %w", dir, err)
		}
	}
	return nil
}

// attachedDevicePrograms returns the device programs attached to the
// cgroup itself (not inherited), opened by id.
func attachedDevicePrograms(cg int) ([]*ebpf.Program, error) {
	res, err := link.QueryPrograms(link.QueryOptions{Target: cg, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return nil, fmt.Errorf("query attached device programs: %w", err)
	}
	var progs []*ebpf.Program
	for _, ap := range res.Programs {
		p, err := ebpf.NewProgramFromID(ap.ID)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // detached meanwhile
			}
			for _, q := range progs {
				q.Close()
			}
			return nil, fmt.Errorf("open attached device program %d: %w", ap.ID, err)
		}
		progs = append(progs, p)
	}
	return progs, nil
}
