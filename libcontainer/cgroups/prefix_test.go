package cgroups

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var errDriver = errors.New("driver failed")

// driver is a Manager whose every method fails with errDriver (wrapped by
// the driver's own context, as fs1/fs2 do).
type driver struct{ frozenCalls int }

func (d *driver) fail() error                         { return errors.Join(errDriver, ErrNotExist) }
func (d *driver) Apply(int) error                     { return d.fail() }
func (d *driver) Set(*specs.LinuxResources) error     { return d.fail() }
func (d *driver) Destroy() error                      { return d.fail() }
func (d *driver) Paths() map[string]string            { return map[string]string{"memory": "/x"} }
func (d *driver) GetPids() ([]int, error)             { return []int{1}, d.fail() }
func (d *driver) Exists() bool                        { return true }
func (d *driver) Freeze() error                       { return d.fail() }
func (d *driver) Thaw() error                         { return d.fail() }
func (d *driver) IsFrozen() (bool, error)             { return false, d.fail() }
func (d *driver) Stats() (*Stats, error)              { return nil, d.fail() }
func (d *driver) NotifyOOM() (<-chan struct{}, error) { return nil, d.fail() }
func (d *driver) EffectivelyFrozen() (bool, error)    { d.frozenCalls++; return true, d.fail() }
func (d *fdDriver) CgroupFD() (int, error)            { return 7, d.fail() }

func checkPrefixed(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: nil error", what)
	}
	if !strings.HasPrefix(err.Error(), "cgroup: ") || strings.Contains(err.Error(), "cgroup: cgroup:") {
		t.Errorf("%s: %q: want exactly one \"cgroup: \" prefix", what, err)
	}
	if !errors.Is(err, errDriver) || !errors.Is(err, ErrNotExist) {
		t.Errorf("%s: %q does not unwrap to the driver's errors", what, err)
	}
}

// fdDriver is a driver whose cgroup a child can be born in (as fs2's).
type fdDriver struct{ driver }

// Every error of a wrapped manager carries "cgroup: " once and unwraps
// to the driver's error; the values besides the error go through.
func TestPrefixedErrors(t *testing.T) {
	d := &driver{}
	m := wrap(d)
	checkPrefixed(t, "Apply", m.Apply(1))
	checkPrefixed(t, "Set", m.Set(&specs.LinuxResources{}))
	checkPrefixed(t, "Destroy", m.Destroy())
	checkPrefixed(t, "Freeze", m.Freeze())
	checkPrefixed(t, "Thaw", m.Thaw())
	pids, err := m.GetPids()
	checkPrefixed(t, "GetPids", err)
	if len(pids) != 1 {
		t.Errorf("GetPids: %v, want the driver's [1]", pids)
	}
	_, err = m.IsFrozen()
	checkPrefixed(t, "IsFrozen", err)
	f, err := m.EffectivelyFrozen()
	checkPrefixed(t, "EffectivelyFrozen", err)
	if !f || d.frozenCalls != 1 {
		t.Errorf("EffectivelyFrozen: %v after %d driver calls, want the driver's answer (true, 1 call)", f, d.frozenCalls)
	}
	_, err = m.Stats()
	checkPrefixed(t, "Stats", err)
	_, err = m.NotifyOOM()
	checkPrefixed(t, "NotifyOOM", err)
	if !m.Exists() || m.Paths()["memory"] != "/x" {
		t.Errorf("Exists/Paths not the driver's: %v %v", m.Exists(), m.Paths())
	}
	if _, ok := m.(FDOpener); ok {
		t.Error("a driver without CgroupFD became an FDOpener")
	}
	if err := prefix(nil); err != nil {
		t.Errorf("prefix(nil) = %v", err)
	}
}

// The optional CgroupFD of a driver (fs2's) survives the wrapping, and
// its error is prefixed too.
func TestPrefixedKeepsCgroupFD(t *testing.T) {
	m := wrap(&fdDriver{})
	o, ok := m.(FDOpener)
	if !ok {
		t.Fatal("a driver with CgroupFD is no FDOpener once wrapped")
	}
	fd, err := o.CgroupFD()
	checkPrefixed(t, "CgroupFD", err)
	if fd != 7 {
		t.Errorf("CgroupFD: fd %d, want the driver's 7", fd)
	}
	checkPrefixed(t, "Apply", o.Apply(1))
}

// Load hands out wrapped managers: a cgroup v2 one (fs2) is an FDOpener,
// a v1 one is not, and both prefix their errors. Nothing is created: the
// cgroups named do not exist (no root needed).
func TestLoadWrapsDrivers(t *testing.T) {
	v1, err := Load(map[string]string{"memory": "/sys/fs/cgroup/memory/rt-prefix-test-none"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v1.(FDOpener); ok {
		t.Error("a v1 manager is an FDOpener")
	}
	_, err = v1.GetPids()
	if err == nil || !strings.HasPrefix(err.Error(), "cgroup: ") || !errors.Is(err, ErrNotExist) {
		t.Errorf("v1 GetPids of a missing cgroup: %v, want \"cgroup: ...\" unwrapping to ErrNotExist", err)
	}
	v2, err := Load(map[string]string{"": "/sys/fs/cgroup/rt-prefix-test-none"})
	if err != nil {
		t.Fatal(err)
	}
	o, ok := v2.(FDOpener)
	if !ok {
		t.Fatal("a cgroup v2 manager is no FDOpener")
	}
	if _, err := o.CgroupFD(); err == nil || !strings.HasPrefix(err.Error(), "cgroup: ") || !errors.Is(err, ErrNotExist) {
		t.Errorf("CgroupFD of a missing cgroup: %v, want \"cgroup: ...\" unwrapping to ErrNotExist", err)
	}
	if _, err := Load(nil); err == nil || !strings.HasPrefix(err.Error(), "cgroup: ") || !errors.Is(err, ErrNotExist) {
		t.Errorf("Load(nil): %v", err)
	}
	if _, err := Load(map[string]string{"memory": "relative"}); err == nil || !strings.HasPrefix(err.Error(), "cgroup: ") {
		t.Errorf("Load of a relative path: %v", err)
	}
}
