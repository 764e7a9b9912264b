package fs1

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// setHugetlb writes hugetlb.<size>.limit_in_bytes for every page size.
func setHugetlb(dir string, limits []specs.LinuxHugepageLimit) error {
	for i, l := range limits {
		file := "hugetlb." + l.Pagesize + ".limit_in_bytes"
		if err := writeOptional(dir, file, strconv.FormatUint(l.Limit, 10), fmt.Sprintf("hugepageLimits[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// setNetCls writes net_cls.classid.
func setNetCls(dir string, n *specs.LinuxNetwork) error {
	if n == nil || n.ClassID == nil || *n.ClassID == 0 {
		return nil
	}
	if err := cgutil.WriteFile(dir, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
		return fmt.Errorf("linux.resources.network.classID: %w", err)
	}
	return nil
}

// setNetPrio writes one "ifname prio" line per interface to
// net_prio.ifpriomap.
func setNetPrio(dir string, n *specs.LinuxNetwork) error {
	if n == nil {
		return nil
	}
	for i, p := range n.Priorities {
		if err := cgutil.WriteFile(dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
			return fmt.Errorf("linux.resources.network.priorities[%d]: %w", i, err)
		}
	}
	return nil
}

// rdmaLine formats one rdma.max line; fields left nil are not written.
func rdmaLine(dev string, r specs.LinuxRdma) string {
	var b strings.Builder
	b.WriteString(dev)
	if r.HcaHandles != nil {
		fmt.Fprintf(&b, " hca_handle=%d", *r.HcaHandles)
	}
	if r.HcaObjects != nil {
		fmt.Fprintf(&b, " hca_object=%d", *r.HcaObjects)
	}
	return b.String()
}

// setRdma writes rdma.max, devices in name order.
func setRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	devs := make([]string, 0, len(rdma))
	for d := range rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		r := rdma[d]
		if r.HcaHandles == nil && r.HcaObjects == nil {
			continue
		}
		if err := cgutil.WriteFile(dir, "rdma.max", rdmaLine(d, r)); err != nil {
			return fmt.Errorf("linux.resources.rdma[%s]: %w", d, err)
		}
	}
	return nil
}
