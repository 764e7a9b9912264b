package fs2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// Set writes every setting of r to the cgroup's v2 files, the way runc's
// fs2 manager does; nil writes nothing. A setting whose controller is not
// in the cgroup's cgroup.controllers fails, naming the field. Device
// rules (when r.Devices is not empty) replace the cgroup's eBPF device
// program. linux.resources.unified is written last, so it overrides.
// Settings cgroup v2 has no file for (real-time cpu budget, net_cls,
// net_prio) fail with ErrNotSupported; the v1-only memory knobs runc
// ignores on v2 (kernel, kernelTCP, swappiness, disableOOMKiller,
// useHierarchy) are ignored.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := m.dir
	avail, err := readControllers(dir)
	if err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	for k := range r.Unified {
		if err := CheckUnifiedKey(k, avail); err != nil {
			return err
		}
	}
	if err := checkAvailable(r, avail, dir); err != nil {
		return err
	}
	if err := checkUnsupported(r); err != nil {
		return err
	}
	steps := []func() error{
		func() error { return cgutil.SetCpuset(dir, r.CPU) },
		func() error { return setDevices(dir, r.Devices) },
		func() error { return setMemory(dir, r.Memory) },
		func() error { return setCPU(dir, r.CPU) },
		func() error { return setPids(dir, r.Pids) },
		func() error { return setIO(dir, r.BlockIO) },
		func() error { return setHugetlb(dir, r.HugepageLimits) },
		func() error { return setRdma(dir, r.Rdma) },
		func() error { return setUnified(dir, r.Unified, avail) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// checkUnsupported rejects settings that have no cgroup v2 file.
func checkUnsupported(r *specs.LinuxResources) error {
	if c := r.CPU; c != nil {
		if nonZeroI(c.RealtimeRuntime) {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time cpu budget: %w", cgutil.ErrNotSupported)
		}
		if nonZeroU(c.RealtimePeriod) {
			return fmt.Errorf("linux.resources.cpu.realtimePeriod: cgroup v2 has no real-time cpu budget: %w", cgutil.ErrNotSupported)
		}
	}
	if n := r.Network; n != nil {
		if n.ClassID != nil && *n.ClassID != 0 {
			return fmt.Errorf("linux.resources.network.classID: cgroup v2 has no net_cls controller: %w", cgutil.ErrNotSupported)
		}
		if len(n.Priorities) > 0 {
			return fmt.Errorf("linux.resources.network.priorities: cgroup v2 has no net_prio controller: %w", cgutil.ErrNotSupported)
		}
	}
	return nil
}
