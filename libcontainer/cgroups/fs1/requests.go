package fs1

import (
	"fmt"

	"github.com/sirupsen/logrus"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// request is one non-empty resource setting and the controller it needs.
type request struct {
	controller string
	field      string // spec field below linux.resources
}

// requests lists the settings of r that would be lost without their
// controller. Values that mean "leave as is" (nil, and the zeros runc
// treats as unset) are not requests.
func requests(r *specs.LinuxResources) []request {
	if r == nil {
		return nil
	}
	var res []request
	add := func(controller, field string, set bool) {
		if set {
			res = append(res, request{controller, field})
		}
	}
	if c := r.CPU; c != nil {
		add("cpuset", "cpu.cpus", c.Cpus != "")
		add("cpuset", "cpu.mems", c.Mems != "")
		add("cpu", "cpu.shares", nonZeroU(c.Shares))
		add("cpu", "cpu.quota", nonZeroI(c.Quota))
		add("cpu", "cpu.period", nonZeroU(c.Period))
		add("cpu", "cpu.realtimeRuntime", nonZeroI(c.RealtimeRuntime))
		add("cpu", "cpu.realtimePeriod", nonZeroU(c.RealtimePeriod))
		add("cpu", "cpu.idle", nonZeroI(c.Idle))
		add("cpu", "cpu.burst", nonZeroU(c.Burst))
	}
	if m := r.Memory; m != nil {
		add("memory", "memory.limit", nonZeroI(m.Limit))
		add("memory", "memory.reservation", nonZeroI(m.Reservation))
		add("memory", "memory.swap", nonZeroI(m.Swap))
		add("memory", "memory.kernel", nonZeroI(m.Kernel))
		add("memory", "memory.kernelTCP", nonZeroI(m.KernelTCP))
		add("memory", "memory.swappiness", m.Swappiness != nil && !swappinessUnset(*m.Swappiness))
		add("memory", "memory.disableOOMKiller", m.DisableOOMKiller != nil && *m.DisableOOMKiller)
	}
	if p := r.Pids; p != nil {
		add("pids", "pids.limit", p.Limit != nil)
	}
	if b := r.BlockIO; b != nil {
		add("blkio", "blockIO.weight", b.Weight != nil && *b.Weight != 0)
		add("blkio", "blockIO.leafWeight", b.LeafWeight != nil && *b.LeafWeight != 0)
		add("blkio", "blockIO.weightDevice", len(b.WeightDevice) > 0)
		add("blkio", "blockIO.throttleReadBpsDevice", len(b.ThrottleReadBpsDevice) > 0)
		add("blkio", "blockIO.throttleWriteBpsDevice", len(b.ThrottleWriteBpsDevice) > 0)
		add("blkio", "blockIO.throttleReadIOPSDevice", len(b.ThrottleReadIOPSDevice) > 0)
		add("blkio", "blockIO.throttleWriteIOPSDevice", len(b.ThrottleWriteIOPSDevice) > 0)
	}
	add("hugetlb", "hugepageLimits", len(r.HugepageLimits) > 0)
	if n := r.Network; n != nil {
		add("net_cls", "network.classID", n.ClassID != nil && *n.ClassID != 0)
		add("net_prio", "network.priorities", len(n.Priorities) > 0)
	}
	add("rdma", "rdma", len(r.Rdma) > 0)
	add("devices", "devices", len(r.Devices) > 0)
	return res
}

// checkMounted fails, naming the first field, when a setting of r needs a
// controller that has no directory in paths (its hierarchy is not
// mounted). Settings that leave things as they are never fail.
func checkMounted(r *specs.LinuxResources, paths map[string]string) error {
	if r != nil && len(r.Unified) > 0 {
		return fmt.Errorf("linux.resources.unified: cgroup v2 settings cannot be applied on a cgroup v1 host")
	}
	for _, req := range requests(r) {
		if paths[req.controller] == "" {
			if optionalControllers[req.controller] {
				// runc skips these when the host has not mounted them;
				// engines send them routinely (hugetlb limits).
				logrus.Warnf("linux.resources.%s: %s cgroup controller is not mounted: setting ignored", req.field, req.controller)
				continue
			}
			return fmt.Errorf("linux.resources.%s: %s: %w", req.field, req.controller, cgutil.ErrNotMounted)
		}
	}
	return nil
}

// optionalControllers are skipped with a warning when not mounted, as runc
// does for hugetlb; limits on any other controller that is not mounted
// (net_cls and net_prio included, as with runc) are an error.
var optionalControllers = map[string]bool{"hugetlb": true, "rdma": true}

func nonZeroU(p *uint64) bool { return p != nil && *p != 0 }
func nonZeroI(p *int64) bool  { return p != nil && *p != 0 }

// swappinessUnset: runc treats -1 (the largest uint64 once cast, as
// callers building the struct in Go may pass) as "leave the kernel's value".
func swappinessUnset(v uint64) bool { return int64(v) == -1 }
