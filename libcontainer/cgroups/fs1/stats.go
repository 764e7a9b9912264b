package fs1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/events"
)

// userHZ is the unit of cpuacct.stat (USER_HZ, 100 on every Linux ABI).
const userHZ = 100

// Stats reads the container's usage from every mounted v1 controller:
// cpu/cpuacct, cpuset, memory, pids, blkio and hugetlb. A controller
// without a directory (not mounted) is skipped; a file that only some
// kernels have (memsw, kmem, usage_all) is skipped when missing; any
// other read error fails, naming the file.
func (m *Manager) Stats() (*events.Stats, error) {
	paths := m.Paths()
	if !m.Exists() {
		return nil, cgutil.ErrNotExist
	}
	s := events.NewStats()
	steps := []struct {
		controller string
		get        func(dir string, s *events.Stats) error
	}{
		{"cpu", cpuStats},
		{"cpuacct", cpuacctStats},
		{"cpuset", cpusetStats},
		{"memory", memoryStats},
		{"pids", pidsStats},
		{"blkio", blkioStats},
		{"hugetlb", hugetlbStats},
	}
	for _, st := range steps {
		dir := paths[st.controller]
		if dir == "" {
			continue
		}
		if err := st.get(dir, s); err != nil {
			return nil, fmt.Errorf("%s stats: %w", st.controller, err)
		}
	}
	return s, nil
}

// readUintOptional reads a number file that older or newer kernels may
// lack: (0, false, nil) when it is missing.
func readUintOptional(dir, name string) (uint64, bool, error) {
	if !cgutil.Exists(dir, name) {
		return 0, false, nil
	}
	v, err := cgutil.ReadUint(dir, name)
	return v, err == nil, err
}

func cpuStats(dir string, s *events.Stats) error {
	kv, err := cgutil.ReadKeyValues(dir, "cpu.stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	s.CPU.Throttling = events.Throttling{
		Periods:          kv["nr_periods"],
		ThrottledPeriods: kv["nr_throttled"],
		ThrottledTime:    kv["throttled_time"],
	}
	return nil
}

func cpuacctStats(dir string, s *events.Stats) error {
	total, err := cgutil.ReadUint(dir, "cpuacct.usage")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = total
	percpu, err := cgutil.ReadFile(dir, "cpuacct.usage_percpu")
	if err != nil {
		return err
	}
	if s.CPU.Usage.Percpu, err = parseUintFields(percpu); err != nil {
		return fmt.Errorf("parse %s/cpuacct.usage_percpu: %w", dir, err)
	}
	kv, err := cgutil.ReadKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.User = kv["user"] * 1e9 / userHZ
	s.CPU.Usage.Kernel = kv["system"] * 1e9 / userHZ
	if cgutil.Exists(dir, "cpuacct.usage_all") {
		all, err := cgutil.ReadFile(dir, "cpuacct.usage_all")
		if err != nil {
			return err
		}
		user, sys, err := parseUsageAll(all)
		if err != nil {
			return fmt.Errorf("parse %s/cpuacct.usage_all: %w", dir, err)
		}
		s.CPU.Usage.PercpuUser, s.CPU.Usage.PercpuKernel = user, sys
	}
	return nil
}

func parseUintFields(s string) ([]uint64, error) {
	var res []uint64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		res = append(res, v)
	}
	return res, nil
}

// parseUsageAll parses cpuacct.usage_all: a "cpu user system" header,
// then one "N user system" line per cpu.
func parseUsageAll(s string) (user, sys []uint64, err error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "cpu") {
		return nil, nil, errors.New("missing header")
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, nil, fmt.Errorf("bad line %q", line)
		}
		u, err1 := strconv.ParseUint(f[1], 10, 64)
		k, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("bad line %q", line)
		}
		user = append(user, u)
		sys = append(sys, k)
	}
	return user, sys, nil
}

func cpusetStats(dir string, s *events.Stats) error {
	for _, l := range []struct {
		file string
		dst  *[]uint16
	}{{"cpuset.cpus", &s.CPUSet.CPUs}, {"cpuset.mems", &s.CPUSet.Mems}} {
		raw, err := cgutil.ReadFile(dir, l.file)
		if err != nil {
			return err
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		ids, err := cgutil.ParseList(raw)
		if err != nil {
			return fmt.Errorf("parse %s/%s: %w", dir, l.file, err)
		}
		for _, id := range ids {
			*l.dst = append(*l.dst, uint16(id))
		}
	}
	for _, f := range []struct {
		file string
		dst  *uint64
	}{
		{"cpuset.cpu_exclusive", &s.CPUSet.CPUExclusive},
		{"cpuset.mem_hardwall", &s.CPUSet.MemHardwall},
		{"cpuset.mem_exclusive", &s.CPUSet.MemExclusive},
		{"cpuset.memory_migrate", &s.CPUSet.MemoryMigrate},
		{"cpuset.memory_spread_page", &s.CPUSet.MemorySpreadPage},
		{"cpuset.memory_spread_slab", &s.CPUSet.MemorySpreadSlab},
		{"cpuset.memory_pressure", &s.CPUSet.MemoryPressure},
		{"cpuset.sched_load_balance", &s.CPUSet.SchedLoadBalance},
	} {
		v, _, err := readUintOptional(dir, f.file)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	if cgutil.Exists(dir, "cpuset.sched_relax_domain_level") {
		raw, err := cgutil.ReadFile(dir, "cpuset.sched_relax_domain_level")
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("parse %s/cpuset.sched_relax_domain_level: %w", dir, err)
		}
		s.CPUSet.SchedRelaxDomainLevel = v
	}
	return nil
}

func memoryStats(dir string, s *events.Stats) error {
	raw, err := cgutil.ReadKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["cache"]
	for _, e := range []struct {
		prefix   string
		dst      *events.MemoryEntry
		required bool
	}{
		{"memory", &s.Memory.Usage, true},
		{"memory.memsw", &s.Memory.Swap, false},
		{"memory.kmem", &s.Memory.Kernel, false},
		{"memory.kmem.tcp", &s.Memory.KernelTCP, false},
	} {
		if !e.required && !cgutil.Exists(dir, e.prefix+".usage_in_bytes") {
			continue // no swap accounting, or a kernel without kmem
		}
		entry, err := memoryEntry(dir, e.prefix)
		if err != nil {
			return err
		}
		*e.dst = entry
	}
	return nil
}

func memoryEntry(dir, prefix string) (events.MemoryEntry, error) {
	var e events.MemoryEntry
	for _, f := range []struct {
		suffix string
		dst    *uint64
	}{
		{".usage_in_bytes", &e.Usage},
		{".max_usage_in_bytes", &e.Max},
		{".failcnt", &e.Failcnt},
		{".limit_in_bytes", &e.Limit},
	} {
		v, err := cgutil.ReadUint(dir, prefix+f.suffix)
		if err != nil {
			return e, err
		}
		*f.dst = v
	}
	return e, nil
}

func pidsStats(dir string, s *events.Stats) error {
	cur, err := cgutil.ReadUint(dir, "pids.current")
	if err != nil {
		return err
	}
	s.Pids.Current = cur
	max, err := cgutil.ReadFile(dir, "pids.max")
	if err != nil {
		return err
	}
	if max = strings.TrimSpace(max); max != "max" {
		// "max" (no limit) is reported as 0, as runc does.
		if s.Pids.Limit, err = strconv.ParseUint(max, 10, 64); err != nil {
			return fmt.Errorf("parse %s/pids.max: %w", dir, err)
		}
	}
	return nil
}

// blkioStats reads the CFQ files when the kernel has them (old kernels),
// else BFQ's, else the throttle policy's, which always count I/O.
func blkioStats(dir string, s *events.Stats) error {
	b := &s.Blkio
	type file struct {
		name string
		dst  *[]events.BlkioEntry
	}
	cfq := []file{
		{"blkio.sectors_recursive", &b.SectorsRecursive},
		{"blkio.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
		{"blkio.io_serviced_recursive", &b.IoServicedRecursive},
		{"blkio.io_queued_recursive", &b.IoQueuedRecursive},
		{"blkio.io_service_time_recursive", &b.IoServiceTimeRecursive},
		{"blkio.io_wait_time_recursive", &b.IoWaitTimeRecursive},
		{"blkio.io_merged_recursive", &b.IoMergedRecursive},
		{"blkio.time_recursive", &b.IoTimeRecursive},
	}
	bfq := []file{
		{"blkio.bfq.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
		{"blkio.bfq.io_serviced_recursive", &b.IoServicedRecursive},
	}
	throttle := []file{
		{"blkio.throttle.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
		{"blkio.throttle.io_serviced_recursive", &b.IoServicedRecursive},
	}
	for _, set := range [][]file{cfq, bfq, throttle} {
		if !cgutil.Exists(dir, set[len(set)-1].name) {
			continue
		}
		found := false
		for _, f := range set {
			if !cgutil.Exists(dir, f.name) {
				continue
			}
			raw, err := cgutil.ReadFile(dir, f.name)
			if err != nil {
				return err
			}
			entries, err := parseBlkio(raw)
			if err != nil {
				return fmt.Errorf("parse %s/%s: %w", dir, f.name, err)
			}
			*f.dst = entries
			found = found || len(entries) > 0
		}
		if found {
			return nil
		}
	}
	return nil
}

// parseBlkio parses "major:minor [op] value" lines; "Total N" lines are
// skipped.
func parseBlkio(raw string) ([]events.BlkioEntry, error) {
	var res []events.BlkioEntry
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Total" {
			continue
		}
		var e events.BlkioEntry
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok || (len(f) != 2 && len(f) != 3) {
			return nil, fmt.Errorf("bad line %q", line)
		}
		var err error
		if e.Major, err = strconv.ParseUint(maj, 10, 64); err != nil {
			return nil, fmt.Errorf("bad line %q", line)
		}
		if e.Minor, err = strconv.ParseUint(min, 10, 64); err != nil {
			return nil, fmt.Errorf("bad line %q", line)
		}
		if len(f) == 3 {
			e.Op = f[1]
		}
		if e.Value, err = strconv.ParseUint(f[len(f)-1], 10, 64); err != nil {
			return nil, fmt.Errorf("bad line %q", line)
		}
		res = append(res, e)
	}
	return res, nil
}

// hugetlbStats reads hugetlb.<size>.{usage,max_usage}_in_bytes and
// failcnt for every page size the controller shows.
func hugetlbStats(dir string, s *events.Stats) error {
	matches, err := filepath.Glob(filepath.Join(dir, "hugetlb.*.usage_in_bytes"))
	if err != nil {
		return err
	}
	for _, m := range matches {
		size := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "hugetlb."), ".usage_in_bytes")
		if strings.Contains(size, ".") {
			continue // hugetlb.<size>.rsvd.usage_in_bytes
		}
		var h events.Hugetlb
		for _, f := range []struct {
			name string
			dst  *uint64
		}{
			{"usage_in_bytes", &h.Usage},
			{"max_usage_in_bytes", &h.Max},
			{"failcnt", &h.Failcnt},
		} {
			v, err := cgutil.ReadUint(dir, "hugetlb."+size+"."+f.name)
			if err != nil {
				return err
			}
			*f.dst = v
		}
		s.Hugetlb[size] = h
	}
	return nil
}
