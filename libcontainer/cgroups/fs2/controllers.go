package fs2

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// readControllers returns the controllers listed in dir/cgroup.controllers.
func readControllers(dir string) (map[string]bool, error) {
	s, err := cgutil.ReadFile(dir, "cgroup.controllers")
	if err != nil {
		return nil, err
	}
	res := make(map[string]bool)
	for _, c := range strings.Fields(s) {
		res[c] = true
	}
	return res, nil
}

// need is one controller a resource field needs.
type need struct {
	field      string // spec path below linux.resources
	controller string
}

// neededControllers lists the controllers r's settings are written to,
// with the field that needs each (device rules need none: they are an
// eBPF program).
func neededControllers(r *specs.LinuxResources) []need {
	if r == nil {
		return nil
	}
	var res []need
	add := func(field, c string) { res = append(res, need{field, c}) }
	if m := r.Memory; m != nil && (nonZeroI(m.Limit) || nonZeroI(m.Reservation) || nonZeroI(m.Swap)) {
		add("memory", "memory")
	}
	if c := r.CPU; c != nil {
		if nonZeroU(c.Shares) || nonZeroI(c.Quota) || nonZeroU(c.Period) || c.Burst != nil || c.Idle != nil {
			add("cpu", "cpu")
		}
		if c.Cpus != "" || c.Mems != "" {
			add("cpu.cpus/mems", "cpuset")
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		add("pids", "pids")
	}
	if b := r.BlockIO; b != nil && (nonZeroW(b.Weight) || len(b.WeightDevice) > 0 || len(b.ThrottleReadBpsDevice) > 0 ||
		len(b.ThrottleWriteBpsDevice) > 0 || len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0) {
		add("blockIO", "io")
	}
	if len(r.HugepageLimits) > 0 {
		add("hugepageLimits", "hugetlb")
	}
	if len(r.Rdma) > 0 {
		add("rdma", "rdma")
	}
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "/") || strings.Contains(k, "..") {
			continue // CheckUnifiedKey names the problem
		}
		if c, _, ok := strings.Cut(k, "."); ok && c != "" && c != "cgroup" {
			add(fmt.Sprintf("unified[%q]", k), c)
		}
	}
	return res
}

// checkAvailable fails, naming the field, when r needs a controller
// that is not in avail (read from dir/cgroup.controllers).
func checkAvailable(r *specs.LinuxResources, avail map[string]bool, dir string) error {
	for _, n := range neededControllers(r) {
		if !avail[n.controller] {
			return fmt.Errorf("linux.resources.%s: controller %q is not in %s/cgroup.controllers (%s): %w",
				n.field, n.controller, dir, listControllers(avail), ErrControllerUnavailable)
		}
	}
	return nil
}

func listControllers(avail map[string]bool) string {
	l := make([]string, 0, len(avail))
	for c := range avail {
		l = append(l, c)
	}
	sort.Strings(l)
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, " ")
}

func nonZeroI(v *int64) bool  { return v != nil && *v != 0 }
func nonZeroU(v *uint64) bool { return v != nil && *v != 0 }
func nonZeroW(v *uint16) bool { return v != nil && *v != 0 }
