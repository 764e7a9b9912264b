package systemd

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	godbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/cgroups/fs2"
)

// defaultCPUPeriod is the kernel's CFS period (µs) when none is given.
const defaultCPUPeriod = 100000

func prop(name string, v any) property {
	return property{Name: name, Value: godbus.MakeVariant(v)}
}

// PropertyAnnotationPrefix: annotations "org.systemd.property.<Name>" =
// "<GVariant text>" become unit properties (as runc).
const PropertyAnnotationPrefix = "org.systemd.property."

// AnnotationProperties turns the org.systemd.property.* annotations into
// unit properties: the value is parsed as a GVariant text ("true",
// "uint64 100", "'str'", "[1, 2]"); a name ending in a lower-case letter
// and "Sec" (TimeoutStopSec) is a number of seconds, passed as <Name>USec
// in microseconds, as runc does.
func AnnotationProperties(ann map[string]string) ([]property, error) {
	var props []property
	for k, v := range ann {
		name, ok := strings.CutPrefix(k, PropertyAnnotationPrefix)
		if !ok {
			continue
		}
		if name == "" || strings.IndexFunc(name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return nil, fmt.Errorf("annotation %s: the property name must be letters only", k)
		}
		val, err := godbus.ParseVariant(v, godbus.Signature{})
		if err != nil {
			return nil, fmt.Errorf("annotation %s=%s: parse the value: %w", k, v, err)
		}
		if trim, ok := strings.CutSuffix(name, "Sec"); ok && trim != "" {
			if c := trim[len(trim)-1]; c >= 'a' && c <= 'z' {
				name = trim + "USec"
				if val, err = secToUSec(val); err != nil {
					return nil, fmt.Errorf("annotation %s=%s: %w", k, v, err)
				}
			}
		}
		props = append(props, property{Name: name, Value: val})
	}
	return props, nil
}

func secToUSec(v godbus.Variant) (godbus.Variant, error) {
	const M = 1000000
	switch x := v.Value().(type) {
	case uint8:
		return godbus.MakeVariant(uint64(x) * M), nil
	case uint16:
		return godbus.MakeVariant(uint64(x) * M), nil
	case uint32:
		return godbus.MakeVariant(uint64(x) * M), nil
	case uint64:
		return godbus.MakeVariant(x * M), nil
	case int16:
		return godbus.MakeVariant(uint64(x) * M), nil
	case int32:
		return godbus.MakeVariant(uint64(x) * M), nil
	case int64:
		return godbus.MakeVariant(uint64(x) * M), nil
	case float64:
		return godbus.MakeVariant(uint64(math.Round(x * M))), nil
	}
	return v, fmt.Errorf("a value in seconds must be a number, not %s", v.Signature())
}

// resourceProps maps the container's resources to unit properties, as
// runc's systemd drivers do (v2: systemd.resource-control(5) names for
// the unified hierarchy; v1: the legacy names). sdVersion gates what
// older systemd lacks. Everything else (and these too) is written to
// the cgroup files by the fs manager afterwards.
func resourceProps(r *specs.LinuxResources, v2 bool, sdVersion int, dir string) ([]property, error) {
	if r == nil {
		return nil, nil
	}
	var props []property
	props = append(props, deviceProps(r.Devices)...)
	if m := r.Memory; m != nil {
		limit := deref(m.Limit)
		if limit > 0 && m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && dir != "" && v2 {
			// before systemd sets it: a limit below the usage would
			// OOM-kill the container before the fs manager refuses it
			if cur, err := cgutil.ReadUint(dir, "memory.current"); err == nil && uint64(limit) < cur {
				return nil, fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d (checkBeforeUpdate)", limit, cur)
			}
		}
		if limit != 0 {
			if v2 {
				props = append(props, prop("MemoryMax", uint64(limit)))
			} else {
				props = append(props, prop("MemoryLimit", uint64(limit)))
			}
		}
		if res := deref(m.Reservation); res != 0 && v2 {
			props = append(props, prop("MemoryLow", uint64(res)))
		}
		if v2 {
			swap, err := fs2.SwapV2(deref(m.Swap), limit)
			if err != nil {
				return nil, fmt.Errorf("linux.resources.memory.swap: %w", err)
			}
			if swap != 0 {
				props = append(props, prop("MemorySwapMax", uint64(swap)))
			}
		}
	}
	if c := r.CPU; c != nil {
		idle := false
		if c.Idle != nil && *c.Idle == 1 && v2 && sdVersion >= 252 {
			props = append(props, prop("CPUWeight", uint64(0)))
			idle = true
		}
		if c.Shares != nil && *c.Shares != 0 && !idle {
			if v2 {
				props = append(props, prop("CPUWeight", fs2.CPUWeight(*c.Shares)))
			} else {
				props = append(props, prop("CPUShares", *c.Shares))
			}
		}
		var period uint64
		if c.Period != nil {
			period = *c.Period
		}
		props = append(props, cpuQuotaProps(deref(c.Quota), period, sdVersion)...)
		cp, err := cpusetProps(c.Cpus, c.Mems, sdVersion)
		if err != nil {
			return nil, err
		}
		props = append(props, cp...)
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		if l := *p.Limit; l > 0 || l == -1 {
			props = append(props, prop("TasksMax", uint64(l))) // -1: infinity
		}
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		if v2 {
			props = append(props, prop("IOWeight", fs2.IOWeight(*b.Weight)))
		} else {
			props = append(props, prop("BlockIOWeight", uint64(*b.Weight)))
		}
	}
	if v2 && len(r.Unified) > 0 {
		up, err := unifiedProps(r.Unified, sdVersion)
		if err != nil {
			return nil, err
		}
		props = append(props, up...)
	}
	return props, nil
}

// anyVersion stands for systemd's version where no property depends on
// it (asking costs a round trip).
const anyVersion = 1 << 30

// needsVersion reports whether r has a resource whose property depends
// on systemd's version (CPUQuotaPeriodUSec, AllowedCPUs, cpu.idle).
func needsVersion(r *specs.LinuxResources) bool {
	if c := r.CPU; c != nil && (c.Period != nil || c.Idle != nil || c.Cpus != "" || c.Mems != "") {
		return true
	}
	for _, k := range []string{"cpu.idle", "cpu.weight", "cpu.max", "cpuset.cpus", "cpuset.mems"} {
		if _, ok := r.Unified[k]; ok {
			return true
		}
	}
	return false
}

func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// cpuQuotaProps: CPUQuotaPerSecUSec is µs of CPU time per second,
// rounded up to whole per cents (systemd keeps a percentage), so that
// the container's cpu.max is not below what it asked for; infinity when
// the quota is unlimited.
func cpuQuotaProps(quota int64, period uint64, sdVersion int) []property {
	var props []property
	if period != 0 {
		if sdVersion >= 242 {
			props = append(props, prop("CPUQuotaPeriodUSec", period))
		} else {
			logrus.Debugf("systemd %d has no CPUQuotaPeriodUSec; cpu period set in cgroupfs only", sdVersion)
		}
	}
	if quota != 0 || period != 0 {
		perSec := uint64(math.MaxUint64)
		if quota > 0 {
			if period == 0 {
				period = defaultCPUPeriod
			}
			perSec = uint64(quota) * 1000000 / period
			if perSec%10000 != 0 {
				perSec = (perSec/10000 + 1) * 10000
			}
		}
		props = append(props, prop("CPUQuotaPerSecUSec", perSec))
	}
	return props
}

func cpusetProps(cpus, mems string, sdVersion int) ([]property, error) {
	if cpus == "" && mems == "" {
		return nil, nil
	}
	if sdVersion < 244 {
		logrus.Debugf("systemd %d has no AllowedCPUs/AllowedMemoryNodes; cpuset set in cgroupfs only", sdVersion)
		return nil, nil
	}
	var props []property
	for _, x := range []struct{ val, name, field string }{
		{cpus, "AllowedCPUs", "linux.resources.cpu.cpus"},
		{mems, "AllowedMemoryNodes", "linux.resources.cpu.mems"},
	} {
		if x.val == "" {
			continue
		}
		bits, err := listToBits(x.val)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", x.field, x.val, err)
		}
		props = append(props, prop(x.name, bits))
	}
	return props, nil
}

// listToBits turns "0-2,5" into systemd's CPU set byte array: bit n%8
// of byte n/8 for each n.
func listToBits(s string) ([]byte, error) {
	ids, err := cgutil.ParseList(s)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, id := range ids {
		if id < 0 || id > 1<<16 {
			return nil, fmt.Errorf("%d out of range", id)
		}
		for len(out) <= id/8 {
			out = append(out, 0)
		}
		out[id/8] |= 1 << (id % 8)
	}
	return out, nil
}

// unifiedProps: the linux.resources.unified keys systemd has properties
// for (the rest is only written to the files).
func unifiedProps(u map[string]string, sdVersion int) ([]property, error) {
	var props []property
	for k, v := range u {
		v = strings.TrimSpace(v)
		field := "linux.resources.unified[" + strconv.Quote(k) + "]"
		switch k {
		case "cpu.idle":
			if v == "1" && sdVersion >= 252 {
				props = append(props, prop("CPUWeight", uint64(0)))
			}
		case "cpu.weight":
			if strings.TrimSpace(u["cpu.idle"]) == "1" && sdVersion >= 252 {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			props = append(props, prop("CPUWeight", n))
		case "cpu.max":
			f := strings.Fields(v)
			if len(f) < 1 || len(f) > 2 {
				return nil, fmt.Errorf("%s: invalid value %q", field, v)
			}
			var quota int64
			period := uint64(defaultCPUPeriod)
			if f[0] != "max" {
				q, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", field, err)
				}
				quota = q
			}
			if len(f) == 2 {
				p, err := strconv.ParseUint(f[1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", field, err)
				}
				period = p
			}
			props = append(props, cpuQuotaProps(quota, period, sdVersion)...)
		case "cpuset.cpus", "cpuset.mems":
			var cp []property
			var err error
			if k == "cpuset.cpus" {
				cp, err = cpusetProps(v, "", sdVersion)
			} else {
				cp, err = cpusetProps("", v, sdVersion)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			props = append(props, cp...)
		case "memory.high", "memory.low", "memory.min", "memory.max", "memory.swap.max", "pids.max":
			n := uint64(math.MaxUint64)
			if v != "max" {
				var err error
				if n, err = strconv.ParseUint(v, 10, 64); err != nil {
					return nil, fmt.Errorf("%s: %w", field, err)
				}
			}
			name := map[string]string{"memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin",
				"memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax"}[k]
			props = append(props, prop(name, n))
		}
	}
	return props, nil
}

// deviceAllow is one DeviceAllow entry: D-Bus type (ss).
type deviceAllow struct {
	Path  string
	Perms string
}

// deviceProps turns the device rules into DevicePolicy/DeviceAllow
// (systemd's eBPF program; rt's own program is attached as well by the
// fs manager). systemd only has allow-lists: a deny-list other than
// "allow everything" is left to rt's program (runc denies everything
// then), and rules systemd cannot say (a wildcard major with a given
// minor) are enforced by rt's program only.
func deviceProps(rules []specs.LinuxDeviceCgroup) []property {
	if len(rules) == 0 {
		return nil
	}
	defaultAllow := false
	var list []specs.LinuxDeviceCgroup // exceptions to the default
	wild := func(p *int64) bool { return p == nil || *p == -1 }
	for _, r := range rules {
		acc := r.Access
		if acc == "" {
			acc = "rwm"
		}
		r.Access = acc
		if (r.Type == "" || r.Type == "a") && wild(r.Major) && wild(r.Minor) && len(acc) == 3 {
			defaultAllow, list = r.Allow, nil
			continue
		}
		if r.Allow != defaultAllow {
			list = append(list, r)
			continue
		}
		// same as the default: drops an identical exception
		out := list[:0]
		for _, e := range list {
			if !(e.Type == r.Type && eq(e.Major, r.Major) && eq(e.Minor, r.Minor) && e.Access == r.Access) {
				out = append(out, e)
			}
		}
		list = out
	}
	if defaultAllow {
		if len(list) == 0 {
			return []property{prop("DevicePolicy", "auto"), prop("DeviceAllow", []deviceAllow{})}
		}
		logrus.Debug("systemd: deny-list device rules are enforced by rt's eBPF program only")
		return nil
	}
	allow := []deviceAllow{}
	for _, r := range list {
		perms := r.Access
		var types []string
		switch r.Type {
		case "c":
			types = []string{"char"}
		case "b":
			types = []string{"block"}
		default:
			types = []string{"char", "block"}
		}
		for _, t := range types {
			switch {
			case wild(r.Major) && wild(r.Minor):
				allow = append(allow, deviceAllow{t + "-*", perms})
			case wild(r.Major):
				logrus.Debugf("systemd: device rule %s *:%d is enforced by rt's eBPF program only", t, *r.Minor)
			case wild(r.Minor):
				allow = append(allow, deviceAllow{t + "-" + strconv.FormatInt(*r.Major, 10), perms})
			default:
				allow = append(allow, deviceAllow{fmt.Sprintf("/dev/%s/%d:%d", t, *r.Major, *r.Minor), perms})
			}
		}
	}
	return []property{prop("DevicePolicy", "strict"), prop("DeviceAllow", []deviceAllow{}), prop("DeviceAllow", allow)}
}

func eq(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
