package capabilities

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/system"
)

// Caps is the resolved form of a LinuxCapabilities: one bit mask per set,
// holding only capabilities the running kernel knows. Build it with New in
// the init, then call ApplyBoundingSet and ApplyCaps on the locked OS thread
// that will execve the user process.
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

// ApplyBoundingSet drops from the calling thread's bounding set every
// capability (up to cap_last_cap) that is not in c.Bounding. It needs
// CAP_SETPCAP in the effective set, so call it before changing user.
func (c *Caps) ApplyBoundingSet() error {
	last := LastCap()
	for n := 0; n <= last; n++ {
		if c.Bounding&(1<<uint(n)) != 0 {
			continue
		}
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0)
		if err != nil {
			return fmt.Errorf("read bounding set for %s: %w", Name(n), err)
		}
		if in == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil {
			return fmt.Errorf("drop %s from the bounding set: %w", Name(n), err)
		}
	}
	return nil
}

// ApplyCaps sets the effective, permitted and inheritable sets of the
// calling thread with capset(2) (version 3 header, pid 0 = this thread),
// then clears the ambient set and raises each ambient capability. As in
// runc, a failure to raise one ambient capability (it must be both permitted
// and inheritable) is logged as a warning, not returned.
func (c *Caps) ApplyCaps() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: 0}
	var data [2]unix.CapUserData
	for i := 0; i < 2; i++ {
		shift := uint(32 * i)
		data[i].Effective = uint32(c.Effective >> shift)
		data[i].Permitted = uint32(c.Permitted >> shift)
		data[i].Inheritable = uint32(c.Inheritable >> shift)
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset (effective %#x, permitted %#x, inheritable %#x): %w",
			c.Effective, c.Permitted, c.Inheritable, err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for _, n := range c.ambientList {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			logrus.Warnf("can't raise ambient capability %s: %v", Name(n), err)
		}
	}
	return nil
}

// ChangeUser switches the calling thread to uid, gid and the additional
// groups, then applies c's sets (ApplyCaps): the tail of rt's init before
// execve. PR_SET_KEEPCAPS keeps the permitted set across the change from
// uid 0 and is cleared again before the sets are applied. A nil c changes
// the user only. Call it after ApplyBoundingSet, on the locked thread that
// will execve.
func (c *Caps) ChangeUser(uid, gid uint32, groups []uint32) error {
	if err := system.SetKeepCaps(true); err != nil {
		return err
	}
	if err := system.SetUser(uid, gid, groups); err != nil {
		return fmt.Errorf("process.user: %w", err)
	}
	if err := system.SetKeepCaps(false); err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	if err := c.ApplyCaps(); err != nil {
		return fmt.Errorf("apply capabilities: %w", err)
	}
	return nil
}
