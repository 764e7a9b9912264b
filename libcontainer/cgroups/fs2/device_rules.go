package fs2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access bits of a device request, as the kernel passes them to a
// BPF_PROG_TYPE_CGROUP_DEVICE program (BPF_DEVCG_ACC_*).
const (
	accMknod uint32 = 1
	accRead  uint32 = 2
	accWrite uint32 = 4
	accAll          = accMknod | accRead | accWrite
)

// Device types of a request (BPF_DEVCG_DEV_*).
const (
	devBlock uint32 = 1
	devChar  uint32 = 2
)

// deviceRule is one device exception: type 'b' or 'c', major/minor (-1:
// any) and the access bits it covers.
type deviceRule struct {
	typ          byte
	major, minor int64
	access       uint32
}

// deviceRules is the effective device policy: a default and the
// exceptions to it (rules with the opposite verdict).
type deviceRules struct {
	defaultAllow bool
	exceptions   []deviceRule
}

// compileDeviceRules evaluates the spec's rules in order the way the
// cgroup v1 devices controller does (as runc's device emulator does for
// its v2 program), starting from deny-all: a type "a" rule resets the
// default and drops every exception; a rule with the default's verdict
// removes its access bits from the exception for exactly the same
// device; any other rule adds (merges) an exception. So an allow-list
// wins over an earlier deny of the same device, a later deny removes an
// earlier allow, and a deny of one device inside an allowed wildcard
// does not punch a hole in it (as on v1).
func compileDeviceRules(rules []specs.LinuxDeviceCgroup) (deviceRules, error) {
	var st deviceRules
	for i, d := range rules {
		allow, r, reset, err := toDeviceRule(d)
		if err != nil {
			return st, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		if reset {
			st.defaultAllow = allow
			st.exceptions = nil
			continue
		}
		if allow == st.defaultAllow {
			kept := st.exceptions[:0]
			for _, e := range st.exceptions {
				if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
					e.access &^= r.access
					if e.access == 0 {
						continue
					}
				}
				kept = append(kept, e)
			}
			st.exceptions = kept
			continue
		}
		merged := false
		for j, e := range st.exceptions {
			if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
				st.exceptions[j].access |= r.access
				merged = true
				break
			}
		}
		if !merged {
			st.exceptions = append(st.exceptions, r)
		}
	}
	return st, nil
}

// toDeviceRule converts a spec rule: type ""/"a" is a reset of all
// devices, nil or -1 major/minor is any, empty access is "rwm".
func toDeviceRule(d specs.LinuxDeviceCgroup) (allow bool, r deviceRule, reset bool, err error) {
	r = deviceRule{major: -1, minor: -1}
	switch d.Type {
	case "", "a":
		reset = true
	case "b", "c":
		r.typ = d.Type[0]
	default:
		return false, r, false, fmt.Errorf("invalid device type %q (want a, b or c)", d.Type)
	}
	if d.Major != nil {
		if *d.Major < -1 || *d.Major > 0xffffffff {
			return false, r, false, fmt.Errorf("invalid major %d", *d.Major)
		}
		r.major = *d.Major
	}
	if d.Minor != nil {
		if *d.Minor < -1 || *d.Minor > 0xffffffff {
			return false, r, false, fmt.Errorf("invalid minor %d", *d.Minor)
		}
		r.minor = *d.Minor
	}
	acc := d.Access
	if acc == "" {
		acc = "rwm"
	}
	for _, c := range acc {
		switch c {
		case 'r':
			r.access |= accRead
		case 'w':
			r.access |= accWrite
		case 'm':
			r.access |= accMknod
		default:
			return false, r, false, fmt.Errorf("invalid access %q (want a combination of r, w and m)", d.Access)
		}
	}
	return d.Allow, r, reset, nil
}

// allows says what the policy answers to a request (typ devBlock or
// devChar, access bits), with the v1 kernel's matching: on a deny-all
// default an allow exception must cover every requested access bit; on
// an allow-all default a deny exception covering any requested bit
// denies. This is what the generated program computes; tests compare
// the two.
func (p deviceRules) allows(typ uint32, major, minor uint32, access uint32) bool {
	for _, e := range p.exceptions {
		if e.matches(typ, major, minor, access, p.defaultAllow) {
			return !p.defaultAllow
		}
	}
	return p.defaultAllow
}

// matches: partial (any access bit in common) for deny exceptions,
// full (every requested bit covered) for allow exceptions.
func (e deviceRule) matches(typ uint32, major, minor uint32, access uint32, partial bool) bool {
	if (e.typ == 'b' && typ != devBlock) || (e.typ == 'c' && typ != devChar) {
		return false
	}
	if partial && access&e.access == 0 {
		return false
	}
	if !partial && access&e.access != access {
		return false
	}
	if e.major >= 0 && uint32(e.major) != major {
		return false
	}
	if e.minor >= 0 && uint32(e.minor) != minor {
		return false
	}
	return true
}
