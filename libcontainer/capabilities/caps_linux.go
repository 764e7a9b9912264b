package capabilities

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// Caps is the resolved form of a LinuxCapabilities: one bit mask per set,
// holding only capabilities the running kernel knows. The parent builds it
// with New for the process plan; the C stage (nsenter/plan.c) applies it.
type Caps struct {
	Bounding    uint64
	Effective   uint64
	Permitted   uint64
	Inheritable uint64
	Ambient     uint64
	// ambientList keeps the ambient capabilities in spec order for raising.
	ambientList []int
}

// New resolves c into bit masks. Unknown names are an error (see Validate);
// capabilities known to rt but above the kernel's cap_last_cap are dropped
// with a debug log, as runc ignores capabilities this kernel lacks. A nil c
// gives empty sets (every capability dropped).
func New(c *specs.LinuxCapabilities) (*Caps, error) {
	if err := Validate(c); err != nil {
		return nil, err
	}
	caps := &Caps{}
	if c == nil {
		return caps, nil
	}
	last := LastCap()
	resolve := func(field string, names []string, list *[]int) uint64 {
		var mask uint64
		for _, name := range names {
			n, _ := Lookup(name)
			if n > last {
				logrus.Debugf("process.capabilities.%s: %s is not supported by this kernel (cap_last_cap %d), ignored", field, name, last)
				continue
			}
			if mask&(1<<uint(n)) == 0 && list != nil {
				*list = append(*list, n)
			}
			mask |= 1 << uint(n)
		}
		return mask
	}
	caps.Bounding = resolve("bounding", c.Bounding, nil)
	caps.Effective = resolve("effective", c.Effective, nil)
	caps.Permitted = resolve("permitted", c.Permitted, nil)
	caps.Inheritable = resolve("inheritable", c.Inheritable, nil)
	caps.Ambient = resolve("ambient", c.Ambient, &caps.ambientList)
	return caps, nil
}

// AmbientList returns the ambient capabilities in the config's order.
func (c *Caps) AmbientList() []int {
	return append([]int{}, c.ambientList...)
}
