package capabilities

import (
	"errors"
	"fmt"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrUnknownCapability is wrapped by every error about a capability name that
// rt does not know.
var ErrUnknownCapability = errors.New("unknown capability")

// capSet names one of the five sets of a LinuxCapabilities, for messages.
type capSet struct {
	field string
	names []string
}

func setsOf(c *specs.LinuxCapabilities) []capSet {
	return []capSet{
		{"bounding", c.Bounding},
		{"effective", c.Effective},
		{"inheritable", c.Inheritable},
		{"permitted", c.Permitted},
		{"ambient", c.Ambient},
	}
}

// Validate checks that every name in c is a capability known to rt. The
// error names the set and the capability, for example
// `process.capabilities.bounding: unknown capability "CAP_TEST"`.
// A nil c is valid. Capabilities known to rt but above the running kernel's
// cap_last_cap are accepted here and skipped when applied.
func Validate(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	for _, s := range setsOf(c) {
		for _, name := range s.names {
			if _, ok := Lookup(name); !ok {
				return fmt.Errorf("process.capabilities.%s: %w %q", s.field, ErrUnknownCapability, name)
			}
		}
	}
	return nil
}

// DropUnknown removes from c every name that rt does not know or that the
// running kernel lacks (above cap_last_cap), and returns those names, sorted
// and once each. runc ignores them with a warning rather than refuse the
// config ("ignoring unknown or unavailable capabilities"), so that a config
// written for a newer kernel still runs.
func DropUnknown(c *specs.LinuxCapabilities) []string {
	if c == nil {
		return nil
	}
	last := LastCap()
	seen := map[string]bool{}
	filter := func(names []string) []string {
		var keep []string
		for _, name := range names {
			if n, ok := Lookup(name); ok && n <= last {
				keep = append(keep, name)
				continue
			}
			seen[name] = true
		}
		if len(keep) == len(names) {
			return names
		}
		return keep
	}
	c.Bounding = filter(c.Bounding)
	c.Effective = filter(c.Effective)
	c.Inheritable = filter(c.Inheritable)
	c.Permitted = filter(c.Permitted)
	c.Ambient = filter(c.Ambient)
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// AmbientUnraisable lists the names of c's ambient capabilities that the
// kernel will refuse to raise because they are not both permitted and
// inheritable (PR_CAP_AMBIENT_RAISE's rule), in c's order. The init warns
// about each as it raises them, which for a container's init is after
// start, where its log no longer reaches rt: create warns beforehand, as
// runc's create does (runc drops privileges before its init is ready).
func AmbientUnraisable(c *specs.LinuxCapabilities) []string {
	if c == nil {
		return nil
	}
	in := func(set []string, name string) bool {
		for _, s := range set {
			if s == name {
				return true
			}
		}
		return false
	}
	var out []string
	for _, name := range c.Ambient {
		if !in(c.Permitted, name) || !in(c.Inheritable, name) {
			out = append(out, name)
		}
	}
	return out
}
