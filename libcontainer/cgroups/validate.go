package cgroups

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// ValidateResources rejects resource values no cgroup could take, before
// anything is created: negative values where only -1 (unlimited) is
// allowed, out-of-range weights, shares and periods, malformed cpuset
// lists or cpus/nodes this machine does not have, unknown huge page
// sizes and malformed device rules. The error is an
// *InvalidResourceError naming the field ("linux.resources.cpu.cpus:
// ..."). Whether a controller is mounted is checked by New.
func ValidateResources(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	host, err := readHostInfo()
	if err != nil {
		return fmt.Errorf("validate linux.resources: %w", err)
	}
	return validateResources(r, host)
}

func validateResources(r *specs.LinuxResources, host *hostInfo) error {
	checks := []func() error{
		func() error { return validateMemory(r.Memory) },
		func() error { return validateCPU(r.CPU, host) },
		func() error { return validateBlockIO(r.BlockIO) },
		func() error { return validateHugepages(r.HugepageLimits, host) },
		func() error { return validateNetwork(r.Network) },
		func() error { return validateDevices(r.Devices) },
		func() error { return validateUnified(r.Unified) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// atLeastMinusOne: byte limits take -1 (unlimited), 0 (leave as is) or
// a positive count.
func atLeastMinusOne(field string, v *int64) error {
	if v != nil && *v < -1 {
		return invalid(field, fmt.Sprintf("%d is negative (use -1 for unlimited)", *v))
	}
	return nil
}

func validateMemory(m *specs.LinuxMemory) error {
	if m == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{
		{"memory.limit", m.Limit}, {"memory.reservation", m.Reservation},
		{"memory.swap", m.Swap}, {"memory.kernel", m.Kernel}, {"memory.kernelTCP", m.KernelTCP},
	} {
		if err := atLeastMinusOne(f.name, f.v); err != nil {
			return err
		}
	}
	if m.Limit != nil && m.Swap != nil && *m.Limit > 0 && *m.Swap > 0 && *m.Swap < *m.Limit {
		return invalid("memory.swap", fmt.Sprintf("%d is below memory.limit %d (swap is the memory+swap limit)", *m.Swap, *m.Limit))
	}
	if m.Swappiness != nil && int64(*m.Swappiness) != -1 && *m.Swappiness > 100 {
		return invalid("memory.swappiness", fmt.Sprintf("%d is out of range 0-100", *m.Swappiness))
	}
	return nil
}

func validateCPU(c *specs.LinuxCPU, host *hostInfo) error {
	if c == nil {
		return nil
	}
	if c.Shares != nil && *c.Shares != 0 && (*c.Shares < 2 || *c.Shares > 262144) {
		return invalid("cpu.shares", fmt.Sprintf("%d is out of range 2-262144", *c.Shares))
	}
	if c.Quota != nil {
		if *c.Quota < -1 {
			return invalid("cpu.quota", fmt.Sprintf("%d is negative (use -1 for unlimited)", *c.Quota))
		}
		if *c.Quota > 0 && *c.Quota < 1000 {
			return invalid("cpu.quota", fmt.Sprintf("%d is below the kernel minimum of 1000 (1ms)", *c.Quota))
		}
	}
	if c.Period != nil && *c.Period != 0 && (*c.Period < 1000 || *c.Period > 1000000) {
		return invalid("cpu.period", fmt.Sprintf("%d is out of range 1000-1000000", *c.Period))
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime < -1 {
		return invalid("cpu.realtimeRuntime", fmt.Sprintf("%d is negative (use -1 for unlimited)", *c.RealtimeRuntime))
	}
	if c.RealtimeRuntime != nil && c.RealtimePeriod != nil && *c.RealtimePeriod != 0 &&
		*c.RealtimeRuntime > 0 && uint64(*c.RealtimeRuntime) > *c.RealtimePeriod {
		return invalid("cpu.realtimeRuntime", fmt.Sprintf("%d is above cpu.realtimePeriod %d", *c.RealtimeRuntime, *c.RealtimePeriod))
	}
	if c.Idle != nil && *c.Idle != 0 && *c.Idle != 1 {
		return invalid("cpu.idle", fmt.Sprintf("%d is neither 0 nor 1", *c.Idle))
	}
	if c.Cpus != "" {
		if err := validateList("cpu.cpus", "cpu", c.Cpus, host.cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := validateList("cpu.mems", "memory node", c.Mems, host.mems); err != nil {
			return err
		}
	}
	return nil
}

// validateList checks a cpuset list's syntax and that every id is one
// the machine has online.
func validateList(field, what, list string, online []int) error {
	ids, err := cgutil.ParseList(list)
	if err != nil {
		return invalid(field, err.Error())
	}
	have := make(map[int]bool, len(online))
	for _, i := range online {
		have[i] = true
	}
	for _, i := range ids {
		if !have[i] {
			return invalid(field, fmt.Sprintf("%s %d is not online on this machine (online: %s)", what, i, formatList(online)))
		}
	}
	return nil
}

// formatList renders ids as a kernel list ("0-3,5").
func formatList(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func validateWeight(field string, w *uint16) error {
	if w != nil && *w != 0 && *w > 1000 {
		return invalid(field, fmt.Sprintf("%d is out of range 1-1000", *w))
	}
	return nil
}

func validateBlockIO(b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	if err := validateWeight("blockIO.weight", b.Weight); err != nil {
		return err
	}
	if err := validateWeight("blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	for i, wd := range b.WeightDevice {
		field := fmt.Sprintf("blockIO.weightDevice[%d]", i)
		if err := validateBlockDevice(field, wd.LinuxBlockIODevice); err != nil {
			return err
		}
		if err := validateWeight(field+".weight", wd.Weight); err != nil {
			return err
		}
		if err := validateWeight(field+".leafWeight", wd.LeafWeight); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		name string
		devs []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", b.ThrottleReadBpsDevice}, {"throttleWriteBpsDevice", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", b.ThrottleReadIOPSDevice}, {"throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.devs {
			if err := validateBlockDevice(fmt.Sprintf("blockIO.%s[%d]", t.name, i), d.LinuxBlockIODevice); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateBlockDevice(field string, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 || d.Minor < 0 {
		return invalid(field, fmt.Sprintf("device %d:%d has a negative number", d.Major, d.Minor))
	}
	return nil
}

func validateHugepages(limits []specs.LinuxHugepageLimit, host *hostInfo) error {
	for i, l := range limits {
		known := false
		for _, s := range host.hugePageSizes {
			if s == l.Pagesize {
				known = true
			}
		}
		if !known {
			have := strings.Join(host.hugePageSizes, ", ")
			if have == "" {
				have = "none"
			}
			return invalid(fmt.Sprintf("hugepageLimits[%d].pageSize", i), fmt.Sprintf("unknown huge page size %q (this machine has: %s)", l.Pagesize, have))
		}
	}
	return nil
}

func validateNetwork(n *specs.LinuxNetwork) error {
	if n == nil {
		return nil
	}
	for i, p := range n.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " \n/") {
			return invalid(fmt.Sprintf("network.priorities[%d].name", i), fmt.Sprintf("invalid interface name %q", p.Name))
		}
	}
	return nil
}

func validateDevices(rules []specs.LinuxDeviceCgroup) error {
	for i, d := range rules {
		field := fmt.Sprintf("devices[%d]", i)
		switch d.Type {
		case "", "a", "b", "c":
		default:
			return invalid(field+".type", fmt.Sprintf("%q is not a, b or c", d.Type))
		}
		if d.Major != nil && *d.Major < -1 {
			return invalid(field+".major", fmt.Sprintf("%d is negative", *d.Major))
		}
		if d.Minor != nil && *d.Minor < -1 {
			return invalid(field+".minor", fmt.Sprintf("%d is negative", *d.Minor))
		}
		// "a" is accepted and means nothing, as in runc (whose device
		// rules keep r, w and m of the string and drop the rest): configs
		// written for runc say "rwa".
		if strings.Trim(d.Access, "rwma") != "" {
			return invalid(field+".access", fmt.Sprintf("%q is not a combination of r, w and m", d.Access))
		}
	}
	return nil
}

// unifiedControllers are the prefixes a linux.resources.unified key may
// have: the cgroup v2 controllers with interface files, and "cgroup"
// for the core files. Whether the controller is enabled for the
// container's cgroup is checked by the v2 manager's Set.
var unifiedControllers = map[string]bool{
	"cgroup": true, "cpu": true, "cpuset": true, "io": true, "memory": true,
	"hugetlb": true, "pids": true, "rdma": true, "misc": true,
}

func validateUnified(u map[string]string) error {
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := fmt.Sprintf("unified[%q]", k)
		if k == "" || strings.Contains(k, "/") || strings.Contains(k, "..") || !strings.Contains(k, ".") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			return invalid(field, "not a cgroup v2 interface file name (controller.name)")
		}
		c, _, _ := strings.Cut(k, ".")
		if !unifiedControllers[c] {
			return invalid(field, fmt.Sprintf("unknown cgroup v2 controller %q", c))
		}
		if strings.TrimSpace(u[k]) == "" {
			return invalid(field, "empty value")
		}
	}
	return nil
}
