// Package devices emulates the cgroup v1 devices controller: the spec's
// linux.resources.devices rules, applied in order, give a policy (a
// default verdict and exceptions) exactly as the kernel's
// security/device_cgroup.c would build it. The v1 manager (fs1) writes the
// rules and compares devices.list with Policy.List; the v2 manager (fs2)
// compiles the Policy to an eBPF device program. One emulator for both, so
// a container gets the same devices on either hierarchy (as runc's
// cgroups/devices package).
package devices

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access is a set of device access bits, with the values of the kernel's
// BPF_DEVCG_ACC_* (what a cgroup v2 device program receives).
type Access uint32

const (
	Mknod Access = 1
	Read  Access = 2
	Write Access = 4
	All          = Mknod | Read | Write
)

// String is the access in the kernel's "rwm" notation.
func (a Access) String() string {
	var s strings.Builder
	if a&Read != 0 {
		s.WriteByte('r')
	}
	if a&Write != 0 {
		s.WriteByte('w')
	}
	if a&Mknod != 0 {
		s.WriteByte('m')
	}
	return s.String()
}

// Rule is one spec device rule in the kernel's terms.
type Rule struct {
	Allow  bool
	Type   byte  // 'a' (all devices: a reset), 'b' or 'c'
	Major  int64 // -1: any
	Minor  int64 // -1: any
	Access Access
}

// FromSpec converts a spec rule: type "" or "a" is all devices, a nil (or
// -1) major/minor is any, an empty access is "rwm".
func FromSpec(d specs.LinuxDeviceCgroup) (Rule, error) {
	r := Rule{Allow: d.Allow, Major: -1, Minor: -1}
	switch d.Type {
	case "", "a":
		r.Type = 'a'
	case "b", "c":
		r.Type = d.Type[0]
	default:
		return r, fmt.Errorf("invalid device type %q (want a, b or c)", d.Type)
	}
	if d.Major != nil {
		if *d.Major < -1 || *d.Major > 0xffffffff {
			return r, fmt.Errorf("invalid major %d", *d.Major)
		}
		r.Major = *d.Major
	}
	if d.Minor != nil {
		if *d.Minor < -1 || *d.Minor > 0xffffffff {
			return r, fmt.Errorf("invalid minor %d", *d.Minor)
		}
		r.Minor = *d.Minor
	}
	acc := d.Access
	if acc == "" {
		acc = "rwm"
	}
	for _, c := range acc {
		switch c {
		case 'r':
			r.Access |= Read
		case 'w':
			r.Access |= Write
		case 'm':
			r.Access |= Mknod
		case 'a':
			// Accepted and ignored, as runc does ("rwa" is "rw").
		default:
			return r, fmt.Errorf("invalid access %q (want a combination of r, w and m)", d.Access)
		}
	}
	return r, nil
}

// IsReset: the kernel treats any "a" entry as "set the default for all
// devices" (and drops the exceptions), whatever numbers follow.
func (r Rule) IsReset() bool { return r.Type == 'a' }

// String is the line written to devices.allow or devices.deny.
func (r Rule) String() string {
	if r.IsReset() {
		return "a *:* rwm"
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, devNum(r.Major), devNum(r.Minor), r.Access)
}

func devNum(n int64) string {
	if n < 0 {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// Exception is a device (type 'b' or 'c', -1 numbers for any) whose
// access bits get the opposite of the policy's default verdict.
type Exception struct {
	Type         byte
	Major, Minor int64
	Access       Access
}

// Policy is the state of a v1 devices cgroup: a default verdict and the
// ordered exceptions to it.
type Policy struct {
	DefaultAllow bool
	Exceptions   []Exception
}

// Apply does what the kernel does on a write of r: an "a" entry resets the
// default and drops every exception; an entry with the default's verdict
// removes its access bits from the exception for exactly the same device;
// any other entry adds (merges into) an exception. So a later deny removes
// an earlier allow, and a deny of one device inside an allowed wildcard
// punches no hole in it (as on v1).
func (p *Policy) Apply(r Rule) {
	if r.IsReset() {
		p.DefaultAllow = r.Allow
		p.Exceptions = nil
		return
	}
	if r.Allow == p.DefaultAllow {
		kept := p.Exceptions[:0]
		for _, e := range p.Exceptions {
			if e.Type == r.Type && e.Major == r.Major && e.Minor == r.Minor {
				e.Access &^= r.Access
				if e.Access == 0 {
					continue
				}
			}
			kept = append(kept, e)
		}
		p.Exceptions = kept
		return
	}
	for i, e := range p.Exceptions {
		if e.Type == r.Type && e.Major == r.Major && e.Minor == r.Minor {
			p.Exceptions[i].Access |= r.Access
			return
		}
	}
	p.Exceptions = append(p.Exceptions, Exception{r.Type, r.Major, r.Minor, r.Access})
}

// AllowsAll reports whether the policy lets every device through.
func (p Policy) AllowsAll() bool { return p.DefaultAllow && len(p.Exceptions) == 0 }

// List renders the policy the way devices.list shows it: "a *:* rwm" for
// an allow-by-default cgroup (its exceptions are not shown), else one line
// per allowed exception.
func (p Policy) List() string {
	if p.DefaultAllow {
		return "a *:* rwm\n"
	}
	var b strings.Builder
	for _, e := range p.Exceptions {
		fmt.Fprintf(&b, "%c %s:%s %s\n", e.Type, devNum(e.Major), devNum(e.Minor), e.Access)
	}
	return b.String()
}

// Compile converts the spec's rules and evaluates them from any starting
// state: a deny-all first (unless the rules start with their own "a"
// entry), then every rule in order. It returns those rules (what a v1
// cgroup is written) and the policy they give.
func Compile(rules []specs.LinuxDeviceCgroup) ([]Rule, Policy, error) {
	out := make([]Rule, 0, len(rules)+1)
	for i, d := range rules {
		r, err := FromSpec(d)
		if err != nil {
			return nil, Policy{}, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 || !out[0].IsReset() {
		out = append([]Rule{{Allow: false, Type: 'a', Major: -1, Minor: -1, Access: All}}, out...)
	}
	var p Policy
	for _, r := range out {
		p.Apply(r)
	}
	return out, p, nil
}
