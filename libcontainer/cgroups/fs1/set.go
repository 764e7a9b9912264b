package fs1

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// Set writes every setting of r to the container's cgroup. nil writes
// nothing. A setting for a controller that is not mounted fails (naming
// the field) instead of being dropped; settings that mean "leave as is"
// never fail.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := checkMounted(r, m.paths); err != nil {
		return err
	}
	p := m.paths
	steps := []struct {
		controller string
		set        func(dir string) error
	}{
		{"cpuset", func(d string) error { return cgutil.SetCpuset(d, r.CPU) }},
		{"devices", func(d string) error { return setDevices(d, r.Devices) }},
		{"memory", func(d string) error { return setMemory(d, r.Memory) }},
		{"cpu", func(d string) error { return setCPU(d, r.CPU) }},
		{"pids", func(d string) error { return setPids(d, r.Pids) }},
		{"blkio", func(d string) error { return setBlkio(d, r.BlockIO) }},
		{"hugetlb", func(d string) error { return setHugetlb(d, r.HugepageLimits) }},
		{"net_cls", func(d string) error { return setNetCls(d, r.Network) }},
		{"net_prio", func(d string) error { return setNetPrio(d, r.Network) }},
		{"rdma", func(d string) error { return setRdma(d, r.Rdma) }},
	}
	for _, s := range steps {
		dir := p[s.controller]
		if dir == "" {
			continue // checkMounted proved nothing is asked of it
		}
		if err := s.set(dir); err != nil {
			return err
		}
	}
	return nil
}
