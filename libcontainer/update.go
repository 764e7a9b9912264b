package libcontainer

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
)

// Update changes a live container's resources as `runc update` does: upd
// is merged into the stored resources (MergeResources), the result is
// validated, written to the cgroup (device rules are left alone) and,
// once the kernel took it, saved in state.json. If the cgroup refuses a
// value the previous resources are written back. A stopped container is
// ErrNotRunning. Validation errors are *cgroups.InvalidResourceError
// naming the field.
func (c *Container) Update(upd *specs.LinuxResources) error {
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	// Re-read under the lock: another update may have just been saved.
	st, err := readState(c.dir)
	if err != nil {
		return err
	}
	c.state = st
	if err := checkStatus(OpUpdate, c.ID(), c.Status()); err != nil {
		return err
	}
	if err := c.update(upd); err != nil {
		return fmt.Errorf("update container %q: %w", c.ID(), err)
	}
	return nil
}

// update is Update once the status allows it.
func (c *Container) update(upd *specs.LinuxResources) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	old := cfg.Cgroup.Resources
	merged, err := MergeResources(old, upd)
	if err != nil {
		return err
	}
	if err := cgroups.ValidateResources(merged); err != nil {
		return err
	}
	m, err := c.cgroupManager()
	if err != nil {
		return err
	}
	if err := setResources(m, merged, upd); err != nil {
		if old != nil {
			if err2 := setResources(m, old, nil); err2 != nil {
				warnf("update: restore previous resources: %v", err2)
			}
		}
		return err
	}
	cfg.Cgroup.Resources = merged
	return writeConfig(c.dir, cfg)
}

// setResources writes r to the cgroup without its device rules: update
// cannot change them, and rewriting them would undo rules others added
// (as runc's SkipDevices). The kernel refuses cpu.shares while cpu.idle
// is 1 (it owns the weight then): a change of idle (upd) goes in first,
// and shares are not written while idle is 1.
func setResources(m cgroups.Manager, r, upd *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	cp := *r
	cp.Devices = nil
	if upd != nil && upd.CPU != nil && upd.CPU.Idle != nil {
		if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: upd.CPU.Idle}}); err != nil {
			return err
		}
	}
	if cp.CPU != nil && cp.CPU.Idle != nil && *cp.CPU.Idle == 1 {
		cpu := *cp.CPU
		cpu.Shares = nil
		cp.CPU = &cpu
	}
	return m.Set(&cp)
}

// MergeResources returns a copy of old with the settings of upd that
// `runc update` honours: block I/O weights and throttles (devices
// upserted by major:minor), every CPU setting, memory limit,
// reservation, swap and checkBeforeUpdate, the pids limit and unified.
// Unset fields (nil, "", and a zero quota or period) keep the old value;
// a quota or period given alone keeps the other. Kernel memory, devices,
// huge pages, network and rdma in upd are ignored, as in runc. Memory
// limit -1 without swap resets swap to "leave as is" (0) so that it can
// become unlimited too.
func MergeResources(old, upd *specs.LinuxResources) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	if old != nil {
		data, err := json.Marshal(old)
		if err != nil {
			return nil, fmt.Errorf("copy resources: %w", err)
		}
		if err := json.Unmarshal(data, res); err != nil {
			return nil, fmt.Errorf("copy resources: %w", err)
		}
	}
	if upd == nil {
		return res, nil
	}
	if b := upd.BlockIO; b != nil {
		if res.BlockIO == nil {
			res.BlockIO = &specs.LinuxBlockIO{}
		}
		mergeBlockIO(res.BlockIO, b)
	}
	if c := upd.CPU; c != nil {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		mergeCPU(res.CPU, c)
	}
	if mem := upd.Memory; mem != nil {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		mergeMemory(res.Memory, mem)
	}
	if upd.Pids != nil && upd.Pids.Limit != nil {
		limit := *upd.Pids.Limit
		res.Pids = &specs.LinuxPids{Limit: &limit}
	}
	if upd.Unified != nil {
		res.Unified = upd.Unified
	}
	return res, nil
}

func mergeBlockIO(dst, b *specs.LinuxBlockIO) {
	if b.Weight != nil {
		dst.Weight = b.Weight
	}
	if b.LeafWeight != nil {
		dst.LeafWeight = b.LeafWeight
	}
	for _, wd := range b.WeightDevice {
		dst.WeightDevice = upsertWeightDevice(dst.WeightDevice, wd)
	}
	for _, t := range []struct {
		dst *[]specs.LinuxThrottleDevice
		upd []specs.LinuxThrottleDevice
	}{
		{&dst.ThrottleReadBpsDevice, b.ThrottleReadBpsDevice},
		{&dst.ThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice},
		{&dst.ThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice},
		{&dst.ThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice},
	} {
		for _, td := range t.upd {
			*t.dst = upsertThrottleDevice(*t.dst, td)
		}
	}
}

func upsertWeightDevice(devs []specs.LinuxWeightDevice, wd specs.LinuxWeightDevice) []specs.LinuxWeightDevice {
	for i := len(devs) - 1; i >= 0; i-- {
		if devs[i].Major == wd.Major && devs[i].Minor == wd.Minor {
			if wd.Weight != nil {
				devs[i].Weight = wd.Weight
			}
			if wd.LeafWeight != nil {
				devs[i].LeafWeight = wd.LeafWeight
			}
			return devs
		}
	}
	return append(devs, wd)
}

func upsertThrottleDevice(devs []specs.LinuxThrottleDevice, td specs.LinuxThrottleDevice) []specs.LinuxThrottleDevice {
	for i := len(devs) - 1; i >= 0; i-- {
		if devs[i].Major == td.Major && devs[i].Minor == td.Minor {
			devs[i].Rate = td.Rate
			return devs
		}
	}
	return append(devs, td)
}

func mergeCPU(dst, c *specs.LinuxCPU) {
	var period uint64
	var quota int64
	if c.Period != nil {
		period = *c.Period
	}
	if c.Quota != nil {
		quota = *c.Quota
	}
	// runc: a quota or a period given alone leaves the other as it was.
	if period != 0 {
		dst.Period = &period
	}
	if quota != 0 {
		dst.Quota = &quota
	}
	if c.Burst != nil {
		dst.Burst = c.Burst
	}
	if c.Shares != nil {
		dst.Shares = c.Shares
	}
	if c.RealtimePeriod != nil {
		dst.RealtimePeriod = c.RealtimePeriod
	}
	if c.RealtimeRuntime != nil {
		dst.RealtimeRuntime = c.RealtimeRuntime
	}
	if c.Cpus != "" {
		dst.Cpus = c.Cpus
	}
	if c.Mems != "" {
		dst.Mems = c.Mems
	}
	if c.Idle != nil {
		dst.Idle = c.Idle
	}
}

func mergeMemory(dst, m *specs.LinuxMemory) {
	if m.Limit != nil {
		dst.Limit = m.Limit
		if *m.Limit == -1 && m.Swap == nil {
			zero := int64(0)
			dst.Swap = &zero
		}
	}
	if m.Reservation != nil {
		dst.Reservation = m.Reservation
	}
	if m.Swap != nil {
		dst.Swap = m.Swap
	}
	if m.CheckBeforeUpdate != nil {
		dst.CheckBeforeUpdate = m.CheckBeforeUpdate
	}
}
