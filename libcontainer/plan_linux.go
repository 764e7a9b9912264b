package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/apparmor"
	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/system"
)

// planOpts are what a plan needs besides the config and the process.
type planOpts struct {
	exec        bool // rt exec: execCPUAffinity applies
	preserveFds int
	lateCgroup  bool
	// stateDir, if set, holds the compiled seccomp filter between execs
	// (see cachedSeccomp).
	stateDir string
	// seccomp, if set, is the profile (exec: still JSON); else
	// cfg.Seccomp.
	seccomp seccompSource
}

// processPlan computes, in the parent, the plan that the C stage applies
// to the container's process (see initproto.Plan): every name resolved
// here, on the host; nothing left that needs Go inside the container.
func processPlan(cfg *configs.Config, proc *specs.Process, o planOpts) (*initproto.Plan, error) {
	u := proc.User
	p := &initproto.Plan{
		Args: proc.Args, Env: proc.Env, Cwd: proc.Cwd,
		UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids, Umask: u.Umask,
		NoNewPrivs: proc.NoNewPrivileges, Terminal: proc.Terminal,
		PreserveFds: uint32(o.preserveFds), LateCgroup: o.lateCgroup,
	}
	if len(proc.Args) == 0 {
		return nil, errors.New("process.args: no program to run")
	}
	if proc.Terminal && proc.ConsoleSize != nil {
		p.ConsoleSize = &[2]uint16{uint16(proc.ConsoleSize.Height), uint16(proc.ConsoleSize.Width)}
	}
	if !cfg.NoNewKeyring {
		p.Keyring = "_ses." + cfg.ID
	}
	// Capabilities: none given means every set empty (as the Go init).
	spec := proc.Capabilities
	if spec == nil {
		spec = &specs.LinuxCapabilities{}
	}
	caps, err := capabilities.New(spec)
	if err != nil {
		return nil, err
	}
	p.Caps = &initproto.PlanCaps{
		LastCap: capabilities.LastCap(), Bounding: caps.Bounding, Effective: caps.Effective,
		Permitted: caps.Permitted, Inheritable: caps.Inheritable, Ambient: caps.AmbientList(),
	}
	src := o.seccomp
	if src == nil && cfg.Seccomp != nil {
		src = decodedSeccomp{cfg.Seccomp}
	}
	prog, err := cachedSeccomp(o.stateDir, src)
	if err != nil {
		return nil, err // names the field
	}
	if prog != nil {
		raw, flags := prog.BPF()
		p.Seccomp = &initproto.PlanSeccomp{Program: raw, Flags: flags, Notify: prog.Notify()}
	}
	if proc.ApparmorProfile != "" {
		// Checked on the host: the container's /sys says nothing true.
		if !apparmor.IsEnabled() {
			return nil, fmt.Errorf("process.apparmorProfile: apply apparmor profile %q: %w", proc.ApparmorProfile, apparmor.ErrNotEnabled)
		}
		p.Apparmor = proc.ApparmorProfile
	}
	if err := system.ValidateRlimits(proc.Rlimits); err != nil {
		return nil, err
	}
	for _, l := range proc.Rlimits {
		res, _ := system.RlimitResource(l.Type)
		p.Rlimits = append(p.Rlimits, initproto.PlanRlimit{Resource: uint32(res), Soft: l.Soft, Hard: l.Hard, Name: l.Type})
	}
	if s := proc.Scheduler; s != nil {
		a, err := system.SchedAttrOf(s)
		if err != nil {
			return nil, err
		}
		p.Scheduler = &initproto.PlanScheduler{Policy: a.Policy, Flags: a.Flags, Nice: a.Nice, Priority: a.Priority,
			Runtime: a.Runtime, Deadline: a.Deadline, Period: a.Period, Name: string(s.Policy)}
	}
	if proc.IOPriority != nil {
		v, err := system.IOPriorityValue(proc.IOPriority)
		if err != nil {
			return nil, err
		}
		p.IOPriority = &v
	}
	if cfg.Personality != nil {
		v, err := system.PersonalityValue(cfg.Personality)
		if err != nil {
			return nil, err
		}
		p.Personality = &v
	}
	if mp := cfg.MemoryPolicy; mp != nil {
		m := &initproto.PlanMemoryPolicy{Mode: uint32(mp.Mode), Nodes: mp.Nodes}
		if len(mp.Nodes) > 0 {
			m.MaxNode = uint32(len(mp.Nodes)*64 + 1)
		}
		p.MemoryPolicy = m
	}
	var affinity *specs.CPUAffinity
	if o.exec {
		affinity = proc.ExecCPUAffinity
	}
	p.Affinity, err = finalAffinity(affinity)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// finalAffinity is the CPU mask the process gets just before execve (see
// system.SetFinalAffinity): execCPUAffinity.final; nothing when only an
// initial one was asked for; else every CPU (the kernel keeps those of the
// cpuset), as runc resets the affinity rt's caller had.
func finalAffinity(a *specs.CPUAffinity) ([]byte, error) {
	if a != nil && a.Final != "" {
		set, err := system.ParseCPUSet("process.execCPUAffinity.final", a.Final)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, 8*len(set))
		for _, w := range set {
			out = binary.NativeEndian.AppendUint64(out, uint64(w))
		}
		return out, nil
	}
	if a != nil && a.Initial != "" {
		return nil, nil
	}
	all := make([]byte, 128)
	for i := range all {
		all[i] = 0xff
	}
	return all, nil
}
