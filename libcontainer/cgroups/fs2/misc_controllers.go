package fs2

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// setPids writes pids.max (see cgutil.PidsMaxValue), as on v1.
func setPids(dir string, p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil {
		return nil
	}
	if err := cgutil.WriteFile(dir, "pids.max", cgutil.PidsMaxValue(*p.Limit)); err != nil {
		return fmt.Errorf("linux.resources.pids.limit: %w", err)
	}
	return nil
}

// setHugetlb writes hugetlb.<size>.max, and the reservation limit
// hugetlb.<size>.rsvd.max where the kernel has it (as runc does).
func setHugetlb(dir string, limits []specs.LinuxHugepageLimit) error {
	for i, l := range limits {
		v := strconv.FormatUint(l.Limit, 10)
		if err := cgutil.WriteFile(dir, "hugetlb."+l.Pagesize+".max", v); err != nil {
			return fmt.Errorf("linux.resources.hugepageLimits[%d]: %w", i, err)
		}
		rsvd := "hugetlb." + l.Pagesize + ".rsvd.max"
		if cgutil.Exists(dir, rsvd) {
			if err := cgutil.WriteFile(dir, rsvd, v); err != nil {
				return fmt.Errorf("linux.resources.hugepageLimits[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// RdmaLine formats one rdma.max line ("mlx4_0 hca_handle=2 hca_object=2000");
// "" when neither limit is set.
func RdmaLine(device string, l specs.LinuxRdma) string {
	var parts []string
	if l.HcaHandles != nil {
		parts = append(parts, "hca_handle="+strconv.FormatUint(uint64(*l.HcaHandles), 10))
	}
	if l.HcaObjects != nil {
		parts = append(parts, "hca_object="+strconv.FormatUint(uint64(*l.HcaObjects), 10))
	}
	if len(parts) == 0 {
		return ""
	}
	return device + " " + strings.Join(parts, " ")
}

func setRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	devs := make([]string, 0, len(rdma))
	for d := range rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		line := RdmaLine(d, rdma[d])
		if line == "" {
			continue
		}
		if err := cgutil.WriteFile(dir, "rdma.max", line); err != nil {
			return fmt.Errorf("linux.resources.rdma[%q]: %w", d, err)
		}
	}
	return nil
}
