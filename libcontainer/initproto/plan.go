package initproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Plan is the container process as the C stage applies it (nsenter/plan.c):
// everything the parent can resolve on the host is resolved (capability
// names to masks, the seccomp profile to BPF, rlimit, scheduler and
// personality names to numbers); what needs the container's filesystem
// (HOME from its /etc/passwd, the PATH lookup, the chdir) is left to the
// C stage, inside the container. It travels as one PlanMsg frame whose
// payload is a sequence of records: a tag byte, a u32 little-endian length,
// that many bytes. Integers are little endian, strings end with their only
// NUL. Tags (one record each unless marked repeated):
//
//	'a' string           an argument (repeated, in order; at least one)
//	'e' string           an environment entry (repeated)
//	'w' string           the cwd (absolute)
//	'u' u32 uid, u32 gid
//	'g' u32...           additional gids
//	'm' u32              umask (absent: 022)
//	'k' u32 last_cap, u64 bounding, effective, permitted, inheritable,
//	    then the ambient capabilities, one byte each, in the config's order
//	'n'                  no_new_privs
//	's' u32 flags, u8 notify, struct sock_filter... (host byte order)
//	'A' string           the AppArmor profile
//	'r' u32 resource, u64 soft, u64 hard, string name (repeated)
//	'S' u32 policy, u64 flags, i32 nice, u32 priority, u64 runtime,
//	    u64 deadline, u64 period, string policy name
//	'i' u32              ioprio value (class<<13 | priority)
//	'p' u32              personality
//	'M' u32 mode|flags, u32 maxnode, node mask words (host order)
//	'c' bytes            final CPU affinity mask (absent: leave it)
//	'f' u32              preserved fds after stdio
//	't' [u16 rows, u16 cols] a terminal (with its size)
//	'K' string           the session keyring to join
//	'L'                  late cgroup placement: ask (Join) before execve
//
// The C decoder refuses unknown tags and malformed or repeated records.
type Plan struct {
	Args           []string
	Env            []string
	Cwd            string
	UID, GID       uint32
	AdditionalGids []uint32
	Umask          *uint32
	Caps           *PlanCaps
	NoNewPrivs     bool
	Seccomp        *PlanSeccomp
	Apparmor       string
	Rlimits        []PlanRlimit
	Scheduler      *PlanScheduler
	IOPriority     *uint32
	Personality    *uint32
	MemoryPolicy   *PlanMemoryPolicy
	// Affinity is the final CPU mask (nil: leave the affinity as it is).
	Affinity    []byte
	PreserveFds uint32
	Terminal    bool
	// ConsoleSize is rows, cols (nil: leave the pty's size).
	ConsoleSize *[2]uint16
	Keyring     string
	LateCgroup  bool
}

// PlanCaps are resolved capability sets (bit n = capability n).
type PlanCaps struct {
	LastCap                                     int
	Bounding, Effective, Permitted, Inheritable uint64
	Ambient                                     []int
}

// PlanSeccomp is a compiled filter: raw struct sock_filter records in the
// host's byte order, and the seccomp(2) flags.
type PlanSeccomp struct {
	Flags   uint32
	Notify  bool
	Program []byte
}

// PlanRlimit is one rlimit; Name is for error messages.
type PlanRlimit struct {
	Resource   uint32
	Soft, Hard uint64
	Name       string
}

// PlanScheduler is sched_setattr(2)'s argument; Name is the policy's.
type PlanScheduler struct {
	Policy                    uint32
	Flags                     uint64
	Nice                      int32
	Priority                  uint32
	Runtime, Deadline, Period uint64
	Name                      string
}

// PlanMemoryPolicy is set_mempolicy(2)'s arguments.
type PlanMemoryPolicy struct {
	Mode    uint32
	MaxNode uint32
	Nodes   []uint64
}

// MaxPlanLen is the C stage's limit (plan.h RT_MAX_PLAN).
const MaxPlanLen = 64 << 20

// sockFilterSize is sizeof(struct sock_filter).
const sockFilterSize = 8

// ErrBadPlan is wrapped by Encode's refusals.
var ErrBadPlan = errors.New("bad process plan")

type planBuf struct {
	b   []byte
	err error
}

func (w *planBuf) rec(tag byte, parts ...any) {
	start := len(w.b)
	w.b = append(w.b, tag, 0, 0, 0, 0)
	for _, p := range parts {
		switch v := p.(type) {
		case uint8:
			w.b = append(w.b, v)
		case uint16:
			w.b = binary.LittleEndian.AppendUint16(w.b, v)
		case uint32:
			w.b = binary.LittleEndian.AppendUint32(w.b, v)
		case int32:
			w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v))
		case uint64:
			w.b = binary.LittleEndian.AppendUint64(w.b, v)
		case []byte:
			w.b = append(w.b, v...)
		case string:
			if strings.IndexByte(v, 0) >= 0 && w.err == nil {
				w.err = fmt.Errorf("%w: record '%c': string %q holds a NUL byte", ErrBadPlan, tag, clip(v))
			}
			w.b = append(w.b, v...)
			w.b = append(w.b, 0)
		default:
			panic(fmt.Sprintf("plan record '%c': bad part %T", tag, p))
		}
	}
	binary.LittleEndian.PutUint32(w.b[start+1:], uint32(len(w.b)-start-5))
}

// Encode returns the PlanMsg frame. It refuses what the C stage would
// refuse, so that the error comes from Go with a clear text.
func (p *Plan) Encode() ([]byte, error) {
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("%w: no args", ErrBadPlan)
	}
	if !strings.HasPrefix(p.Cwd, "/") {
		return nil, fmt.Errorf("%w: cwd %q is not absolute", ErrBadPlan, clip(p.Cwd))
	}
	w := &planBuf{b: make([]byte, 0, 1024)}
	for _, a := range p.Args {
		w.rec('a', a)
	}
	for _, e := range p.Env {
		w.rec('e', e)
	}
	w.rec('w', p.Cwd)
	w.rec('u', p.UID, p.GID)
	if len(p.AdditionalGids) > 0 {
		parts := make([]any, len(p.AdditionalGids))
		for i, g := range p.AdditionalGids {
			parts[i] = g
		}
		w.rec('g', parts...)
	}
	if p.Umask != nil {
		w.rec('m', *p.Umask)
	}
	if c := p.Caps; c != nil {
		if c.LastCap < 0 || c.LastCap > 63 || len(c.Ambient) > 64 {
			return nil, fmt.Errorf("%w: capabilities: last cap %d, %d ambient", ErrBadPlan, c.LastCap, len(c.Ambient))
		}
		amb := make([]byte, len(c.Ambient))
		for i, n := range c.Ambient {
			if n < 0 || n > 63 {
				return nil, fmt.Errorf("%w: ambient capability %d", ErrBadPlan, n)
			}
			amb[i] = byte(n)
		}
		w.rec('k', uint32(c.LastCap), c.Bounding, c.Effective, c.Permitted, c.Inheritable, amb)
	}
	if p.NoNewPrivs {
		w.rec('n')
	}
	if s := p.Seccomp; s != nil {
		n := len(s.Program) / sockFilterSize
		if n == 0 || n > 0xFFFF || len(s.Program)%sockFilterSize != 0 {
			return nil, fmt.Errorf("%w: seccomp program of %d bytes", ErrBadPlan, len(s.Program))
		}
		var notify uint8
		if s.Notify {
			notify = 1
		}
		w.rec('s', s.Flags, notify, s.Program)
	}
	if p.Apparmor != "" {
		w.rec('A', p.Apparmor)
	}
	if len(p.Rlimits) > 64 {
		return nil, fmt.Errorf("%w: %d rlimits", ErrBadPlan, len(p.Rlimits))
	}
	for _, r := range p.Rlimits {
		w.rec('r', r.Resource, r.Soft, r.Hard, r.Name)
	}
	if s := p.Scheduler; s != nil {
		w.rec('S', s.Policy, s.Flags, s.Nice, s.Priority, s.Runtime, s.Deadline, s.Period, s.Name)
	}
	if p.IOPriority != nil {
		w.rec('i', *p.IOPriority)
	}
	if p.Personality != nil {
		w.rec('p', *p.Personality)
	}
	if m := p.MemoryPolicy; m != nil {
		if uint64(m.MaxNode) > uint64(len(m.Nodes))*64+1 {
			return nil, fmt.Errorf("%w: memory policy maxnode %d for %d words", ErrBadPlan, m.MaxNode, len(m.Nodes))
		}
		nodes := make([]byte, 0, 8*len(m.Nodes))
		for _, n := range m.Nodes {
			nodes = binary.NativeEndian.AppendUint64(nodes, n)
		}
		w.rec('M', m.Mode, m.MaxNode, nodes)
	}
	if p.Affinity != nil {
		if len(p.Affinity) == 0 {
			return nil, fmt.Errorf("%w: empty CPU affinity mask", ErrBadPlan)
		}
		w.rec('c', p.Affinity)
	}
	if p.PreserveFds > 0 {
		if p.PreserveFds > 1<<20 {
			return nil, fmt.Errorf("%w: %d preserved fds", ErrBadPlan, p.PreserveFds)
		}
		w.rec('f', p.PreserveFds)
	}
	if p.Terminal {
		if p.ConsoleSize != nil {
			w.rec('t', p.ConsoleSize[0], p.ConsoleSize[1])
		} else {
			w.rec('t')
		}
	}
	if p.Keyring != "" {
		w.rec('K', p.Keyring)
	}
	if p.LateCgroup {
		w.rec('L')
	}
	if w.err != nil {
		return nil, w.err
	}
	if len(w.b) > MaxPlanLen {
		return nil, fmt.Errorf("%w: %d bytes exceed %d", ErrBadPlan, len(w.b), MaxPlanLen)
	}
	return Encode(PlanMsg, w.b), nil
}
