package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// This package owns the "cgroup: " prefix of every error a Manager
// returns: New, LoadConfig and Load hand out the driver's manager wrapped
// in a prefixed, whose methods prefix the driver's errors once. Callers
// add their own context (the verb, the container) and never "cgroup:".

// prefix gives err the package's prefix.
func prefix(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cgroup: %w", err)
}

// FDOpener is implemented by a Manager whose cgroup a child can be born
// in (cgroup v2: CLONE_INTO_CGROUP, Go's SysProcAttr.UseCgroupFD).
type FDOpener interface {
	Manager
	// CgroupFD opens the cgroup's directory (Apply(0) first makes it);
	// the caller closes the fd.
	CgroupFD() (int, error)
}

// fdOpener is the optional method of a driver whose cgroup a child can be
// born in (fs2).
type fdOpener interface {
	CgroupFD() (int, error)
}

// wrap returns m with its errors prefixed, keeping m's optional methods:
// an FDOpener stays one.
func wrap(m Manager) Manager {
	p := &prefixed{m: m}
	if _, ok := m.(fdOpener); ok {
		return &prefixedFD{prefixed: p}
	}
	return p
}

// prefixed is a driver's Manager whose errors carry "cgroup: ".
type prefixed struct {
	m Manager
}

func (p *prefixed) Apply(pid int) error               { return prefix(p.m.Apply(pid)) }
func (p *prefixed) Set(r *specs.LinuxResources) error { return prefix(p.m.Set(r)) }
func (p *prefixed) Destroy() error                    { return prefix(p.m.Destroy()) }
func (p *prefixed) Paths() map[string]string          { return p.m.Paths() }
func (p *prefixed) Exists() bool                      { return p.m.Exists() }
func (p *prefixed) Freeze() error                     { return prefix(p.m.Freeze()) }
func (p *prefixed) Thaw() error                       { return prefix(p.m.Thaw()) }

func (p *prefixed) GetPids() ([]int, error) {
	pids, err := p.m.GetPids()
	return pids, prefix(err)
}

func (p *prefixed) IsFrozen() (bool, error) {
	f, err := p.m.IsFrozen()
	return f, prefix(err)
}

func (p *prefixed) EffectivelyFrozen() (bool, error) {
	f, err := p.m.EffectivelyFrozen()
	return f, prefix(err)
}

func (p *prefixed) Stats() (*Stats, error) {
	s, err := p.m.Stats()
	return s, prefix(err)
}

func (p *prefixed) NotifyOOM() (<-chan struct{}, error) {
	ch, err := p.m.NotifyOOM()
	return ch, prefix(err)
}

// prefixedFD is a prefixed over a driver that has CgroupFD.
type prefixedFD struct {
	*prefixed
}

func (p *prefixedFD) CgroupFD() (int, error) {
	fd, err := p.m.(fdOpener).CgroupFD()
	return fd, prefix(err)
}
