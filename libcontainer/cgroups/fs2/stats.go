package fs2

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/events"
)

// Stats reads the cgroup's usage into runc's stats shape, the way runc's
// fs2 manager maps v2 files onto it: cpu.stat, memory.current/max/peak,
// memory.swap.*, memory.stat, pids.current/max, io.stat, hugetlb.*,
// cpuset.*.effective and the *.pressure files. A file of a controller
// that is not enabled in the cgroup is skipped; a file that is there but
// unreadable fails, naming it.
func (m *Manager) Stats() (*events.Stats, error) {
	if !m.Exists() {
		return nil, fmt.Errorf("%s: %w", m.dir, cgutil.ErrNotExist)
	}
	s := events.NewStats()
	for _, st := range []struct {
		name string
		get  func(dir string, s *events.Stats) error
	}{
		{"cpu", cpuStats},
		{"cpuset", cpusetStats},
		{"memory", memoryStats},
		{"pids", pidsStats},
		{"io", ioStats},
		{"hugetlb", hugetlbStats},
	} {
		if err := st.get(m.dir, s); err != nil {
			return nil, fmt.Errorf("%s stats: %w", st.name, err)
		}
	}
	return s, nil
}

// optional turns "file missing" into (false, nil).
func optional(err error) (bool, error) {
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

func cpuStats(dir string, s *events.Stats) error {
	kv, err := cgutil.ReadKeyValues(dir, "cpu.stat")
	if ok, err := optional(err); !ok {
		return err
	}
	// cpu.stat is in microseconds; runc's record in nanoseconds.
	s.CPU.Usage.Total = kv["usage_usec"] * 1000
	s.CPU.Usage.User = kv["user_usec"] * 1000
	s.CPU.Usage.Kernel = kv["system_usec"] * 1000
	s.CPU.Throttling = events.Throttling{
		Periods:          kv["nr_periods"],
		ThrottledPeriods: kv["nr_throttled"],
		ThrottledTime:    kv["throttled_usec"] * 1000,
	}
	psi, err := readPSI(dir, "cpu.pressure")
	if err != nil {
		return err
	}
	s.CPU.PSI = psi
	return nil
}

func cpusetStats(dir string, s *events.Stats) error {
	for _, l := range []struct {
		file string
		dst  *[]uint16
	}{{"cpuset.cpus.effective", &s.CPUSet.CPUs}, {"cpuset.mems.effective", &s.CPUSet.Mems}} {
		raw, err := cgutil.ReadFile(dir, l.file)
		if ok, err := optional(err); !ok {
			if err != nil {
				return err
			}
			continue
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
	return nil
}

// readUintOpt reads a number file; "max" reads as the largest uint64;
// a missing file is (0, false, nil).
func readUintOpt(dir, name string) (uint64, bool, error) {
	v, err := cgutil.ReadUint(dir, name)
	ok, err := optional(err)
	return v, ok, err
}

func memoryStats(dir string, s *events.Stats) error {
	raw, err := cgutil.ReadKeyValues(dir, "memory.stat")
	if ok, err := optional(err); !ok {
		return err // memory not enabled: nothing to report
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["file"]
	usage := &s.Memory.Usage
	if usage.Usage, _, err = readUintOpt(dir, "memory.current"); err != nil {
		return err
	}
	if usage.Limit, _, err = readUintOpt(dir, "memory.max"); err != nil {
		return err
	}
	if usage.Max, _, err = readUintOpt(dir, "memory.peak"); err != nil {
		return err
	}
	if ev, err := cgutil.ReadKeyValues(dir, "memory.events"); err == nil {
		usage.Failcnt = ev["max"]
	}
	// Swap as on v1: memory+swap (v2's counters are swap only).
	swapUsage, haveSwap, err := readUintOpt(dir, "memory.swap.current")
	if err != nil {
		return err
	}
	if haveSwap {
		swapLimit, _, err := readUintOpt(dir, "memory.swap.max")
		if err != nil {
			return err
		}
		s.Memory.Swap.Usage = swapUsage + usage.Usage
		s.Memory.Swap.Limit = swapLimit
		if swapLimit != ^uint64(0) && usage.Limit != ^uint64(0) {
			s.Memory.Swap.Limit = swapLimit + usage.Limit
		}
	}
	psi, err := readPSI(dir, "memory.pressure")
	if err != nil {
		return err
	}
	s.Memory.PSI = psi
	return nil
}

func pidsStats(dir string, s *events.Stats) error {
	cur, ok, err := readUintOpt(dir, "pids.current")
	if !ok {
		return err
	}
	s.Pids.Current = cur
	max, _, err := readUintOpt(dir, "pids.max")
	if err != nil {
		return err
	}
	if max != ^uint64(0) {
		s.Pids.Limit = max // "max" (no limit) is reported as 0, as runc does
	}
	return nil
}

// ioStats maps io.stat onto v1's tables as runc does: rbytes/wbytes to
// ioServiceBytesRecursive and rios/wios to ioServicedRecursive, with op
// "Read"/"Write".
func ioStats(dir string, s *events.Stats) error {
	raw, err := cgutil.ReadFile(dir, "io.stat")
	if ok, err := optional(err); !ok {
		return err
	}
	bytes, ios, err := ParseIOStat(raw)
	if err != nil {
		return fmt.Errorf("parse %s/io.stat: %w", dir, err)
	}
	s.Blkio.IoServiceBytesRecursive = bytes
	s.Blkio.IoServicedRecursive = ios
	psi, err := readPSI(dir, "io.pressure")
	if err != nil {
		return err
	}
	s.Blkio.PSI = psi
	return nil
}

// ParseIOStat parses io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4
// dbytes=0 dios=0" per device).
func ParseIOStat(raw string) (bytes, ios []events.BlkioEntry, err error) {
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			return nil, nil, fmt.Errorf("bad line %q", line)
		}
		var e events.BlkioEntry
		if e.Major, err = strconv.ParseUint(maj, 10, 64); err != nil {
			return nil, nil, fmt.Errorf("bad line %q", line)
		}
		if e.Minor, err = strconv.ParseUint(min, 10, 64); err != nil {
			return nil, nil, fmt.Errorf("bad line %q", line)
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			var table *[]events.BlkioEntry
			op := "Read"
			switch k {
			case "rbytes":
				table = &bytes
			case "wbytes":
				table, op = &bytes, "Write"
			case "rios":
				table = &ios
			case "wios":
				table, op = &ios, "Write"
			default:
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("bad value %q in line %q", kv, line)
			}
			ent := e
			ent.Op, ent.Value = op, n
			*table = append(*table, ent)
		}
	}
	return bytes, ios, nil
}

// hugetlbStats reads hugetlb.<size>.current and the "max" count of
// hugetlb.<size>.events (the v1 failcnt).
func hugetlbStats(dir string, s *events.Stats) error {
	matches, err := filepath.Glob(filepath.Join(dir, "hugetlb.*.current"))
	if err != nil {
		return err
	}
	for _, m := range matches {
		size := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "hugetlb."), ".current")
		if strings.Contains(size, ".") {
			continue // hugetlb.<size>.rsvd.current
		}
		var h events.Hugetlb
		if h.Usage, err = cgutil.ReadUint(dir, filepath.Base(m)); err != nil {
			return err
		}
		if ev, err := cgutil.ReadKeyValues(dir, "hugetlb."+size+".events"); err == nil {
			h.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = h
	}
	return nil
}

// readPSI parses a *.pressure file; nil when the kernel has none
// (CONFIG_PSI off, or psi=0).
func readPSI(dir, name string) (*events.PSIStats, error) {
	raw, err := cgutil.ReadFile(dir, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, nil
		}
		return nil, err
	}
	psi, err := ParsePSI(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s/%s: %w", dir, name, err)
	}
	return psi, nil
}

// ParsePSI parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and
// the matching "full" line.
func ParsePSI(raw string) (*events.PSIStats, error) {
	psi := &events.PSIStats{}
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var d *events.PSIData
		switch f[0] {
		case "some":
			d = &psi.Some
		case "full":
			d = &psi.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("bad field %q", kv)
			}
			var err error
			switch k {
			case "avg10":
				d.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("bad field %q: %w", kv, err)
			}
		}
	}
	return psi, nil
}
