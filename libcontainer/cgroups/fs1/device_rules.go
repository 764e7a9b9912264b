package fs1

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceRule is one spec device rule in the kernel's terms.
type deviceRule struct {
	allow bool
	typ   byte  // 'a', 'b' or 'c'
	major int64 // -1: any
	minor int64 // -1: any
	acc   string
}

// toDeviceRule converts a spec rule: type ""/"a" is all devices, a nil
// (or -1) major/minor is "*", an empty access is "rwm".
func toDeviceRule(d specs.LinuxDeviceCgroup) (deviceRule, error) {
	r := deviceRule{allow: d.Allow, major: -1, minor: -1, acc: d.Access}
	switch d.Type {
	case "", "a":
		r.typ = 'a'
	case "b", "c":
		r.typ = d.Type[0]
	default:
		return r, fmt.Errorf("invalid device type %q (want a, b or c)", d.Type)
	}
	if d.Major != nil {
		if *d.Major < -1 {
			return r, fmt.Errorf("invalid major %d", *d.Major)
		}
		r.major = *d.Major
	}
	if d.Minor != nil {
		if *d.Minor < -1 {
			return r, fmt.Errorf("invalid minor %d", *d.Minor)
		}
		r.minor = *d.Minor
	}
	if r.acc == "" {
		r.acc = "rwm"
	}
	for _, c := range r.acc {
		if c != 'r' && c != 'w' && c != 'm' {
			return r, fmt.Errorf("invalid access %q (want a combination of r, w and m)", d.Access)
		}
	}
	return r, nil
}

// isReset: the kernel treats any "a" entry as "set the default for all
// devices" (and drops the exceptions), whatever numbers follow.
func (r deviceRule) isReset() bool { return r.typ == 'a' }

// String is the line written to devices.allow / devices.deny.
func (r deviceRule) String() string {
	if r.isReset() {
		return "a *:* rwm"
	}
	return fmt.Sprintf("%c %s:%s %s", r.typ, devNum(r.major), devNum(r.minor), r.acc)
}

func devNum(n int64) string {
	if n < 0 {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// accessBits: r=1, w=2, m=4.
func accessBits(acc string) int {
	b := 0
	for _, c := range acc {
		switch c {
		case 'r':
			b |= 1
		case 'w':
			b |= 2
		case 'm':
			b |= 4
		}
	}
	return b
}

func accessString(b int) string {
	var s strings.Builder
	if b&1 != 0 {
		s.WriteByte('r')
	}
	if b&2 != 0 {
		s.WriteByte('w')
	}
	if b&4 != 0 {
		s.WriteByte('m')
	}
	return s.String()
}

type deviceException struct {
	typ          byte
	major, minor int64
	access       int
}

// deviceState mirrors the kernel's v1 devices cgroup state: a default
// (allow or deny) plus an ordered list of exceptions.
type deviceState struct {
	defaultAllow bool
	exceptions   []deviceException
}

// apply does what the kernel does on a write of r (security/device_cgroup.c):
// an "a" entry resets; an entry in the same sense as the default removes
// those access bits from the matching exception; otherwise it is added
// (merged into an existing exception for the same device).
func (s *deviceState) apply(r deviceRule) {
	if r.isReset() {
		s.defaultAllow = r.allow
		s.exceptions = nil
		return
	}
	bits := accessBits(r.acc)
	if r.allow == s.defaultAllow {
		kept := s.exceptions[:0]
		for _, e := range s.exceptions {
			if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
				e.access &^= bits
				if e.access == 0 {
					continue
				}
			}
			kept = append(kept, e)
		}
		s.exceptions = kept
		return
	}
	for i, e := range s.exceptions {
		if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
			s.exceptions[i].access |= bits
			return
		}
	}
	s.exceptions = append(s.exceptions, deviceException{r.typ, r.major, r.minor, bits})
}

// list renders the state the way devices.list shows it: "a *:* rwm" for
// an allow-by-default cgroup (its exceptions are not shown), else one
// line per allowed exception.
func (s *deviceState) list() string {
	if s.defaultAllow {
		return "a *:* rwm\n"
	}
	var b strings.Builder
	for _, e := range s.exceptions {
		fmt.Fprintf(&b, "%c %s:%s %s\n", e.typ, devNum(e.major), devNum(e.minor), accessString(e.access))
	}
	return b.String()
}

// deviceWrites turns spec rules into the writes that build them from any
// starting state: a deny-all first (unless the rules start with their
// own "a" entry), then every rule in order. It also returns the
// devices.list the kernel will show afterwards.
func deviceWrites(rules []specs.LinuxDeviceCgroup) (writes []deviceRule, expected string, err error) {
	converted := make([]deviceRule, 0, len(rules)+1)
	for i, d := range rules {
		r, err := toDeviceRule(d)
		if err != nil {
			return nil, "", fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		converted = append(converted, r)
	}
	if len(converted) == 0 || !converted[0].isReset() {
		converted = append([]deviceRule{{allow: false, typ: 'a', major: -1, minor: -1, acc: "rwm"}}, converted...)
	}
	var st deviceState
	for _, r := range converted {
		st.apply(r)
	}
	return converted, st.list(), nil
}
