package system

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// The set_mempolicy(2) modes and mode flags (linux/mempolicy.h).
const (
	mpolDefault            = 0
	mpolPreferred          = 1
	mpolBind               = 2
	mpolInterleave         = 3
	mpolLocal              = 4
	mpolPreferredMany      = 5
	mpolWeightedInterleave = 6

	mpolFStaticNodes   = 1 << 15
	mpolFRelativeNodes = 1 << 14
	mpolFNumaBalancing = 1 << 13
)

// MaxNUMANodes bounds a node number (the kernel's largest NODES_SHIFT is 10).
const MaxNUMANodes = 1024

var mpolModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: mpolDefault, specs.MpolPreferred: mpolPreferred, specs.MpolBind: mpolBind,
	specs.MpolInterleave: mpolInterleave, specs.MpolLocal: mpolLocal,
	specs.MpolPreferredMany: mpolPreferredMany, specs.MpolWeightedInterleave: mpolWeightedInterleave,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFStaticNodes: mpolFStaticNodes, specs.MpolFRelativeNodes: mpolFRelativeNodes,
	specs.MpolFNumaBalancing: mpolFNumaBalancing,
}

// MemoryPolicyModes and MemoryPolicyFlags list what ParseMemoryPolicy
// accepts, sorted (for `features`).
func MemoryPolicyModes() []string {
	return sortedKeys(mpolModes)
}

// MemoryPolicyFlags: see MemoryPolicyModes.
func MemoryPolicyFlags() []string {
	return sortedKeys(mpolFlags)
}

func sortedKeys[K ~string](m map[K]int) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ParseList parses a kernel list ("0-3,5,7-8") of numbers below limit.
func ParseList(s string, limit int) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q: %q is not a number or range", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q: %q is not a valid range", s, part)
			}
		}
		if b >= limit {
			return nil, fmt.Errorf("%q: %d is out of range (at most %d)", s, b, limit-1)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// ParseMemoryPolicy validates linux.memoryPolicy as set_mempolicy(2)
// would, and returns it in the form the init applies. Errors name the
// field.
func ParseMemoryPolicy(p *specs.LinuxMemoryPolicy) (*configs.MemoryPolicy, error) {
	mode, ok := mpolModes[p.Mode]
	if !ok {
		return nil, fmt.Errorf("linux.memoryPolicy.mode: unknown mode %q", p.Mode)
	}
	flags := 0
	for _, f := range p.Flags {
		v, ok := mpolFlags[f]
		if !ok {
			return nil, fmt.Errorf("linux.memoryPolicy.flags: unknown flag %q", f)
		}
		flags |= v
	}
	nodes, err := ParseList(p.Nodes, MaxNUMANodes)
	if err != nil {
		return nil, fmt.Errorf("linux.memoryPolicy.nodes: %w", err)
	}
	if flags&mpolFStaticNodes != 0 && flags&mpolFRelativeNodes != 0 {
		return nil, errors.New("linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
	}
	if flags&mpolFNumaBalancing != 0 && mode != mpolBind && mode != mpolPreferredMany {
		return nil, fmt.Errorf("linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING needs MPOL_BIND or MPOL_PREFERRED_MANY, not %s", p.Mode)
	}
	switch mode {
	case mpolDefault, mpolLocal:
		if len(nodes) > 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: must be empty with %s", p.Mode)
		}
		if mode == mpolLocal && flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.flags: MPOL_F_STATIC_NODES/MPOL_F_RELATIVE_NODES need nodes, %s has none", p.Mode)
		}
	case mpolPreferred:
		if len(nodes) == 0 && flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
			return nil, errors.New("linux.memoryPolicy.nodes: MPOL_F_STATIC_NODES/MPOL_F_RELATIVE_NODES need nodes")
		}
	default:
		if len(nodes) == 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: %s needs at least one node", p.Mode)
		}
	}
	out := &configs.MemoryPolicy{Mode: mode | flags}
	if len(nodes) > 0 {
		out.Nodes = make([]uint64, (nodes[len(nodes)-1])/64+1)
		for _, n := range nodes {
			out.Nodes[n/64] |= 1 << (n % 64)
		}
	}
	return out, nil
}

// ParseCPUSet parses a CPU list ("0-3,5") into a CPU set (field names the
// config field in the error).
func ParseCPUSet(field, s string) (*unix.CPUSet, error) {
	var set unix.CPUSet
	cpus, err := ParseList(s, len(set)*64)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("%s: empty CPU list", field)
	}
	for _, c := range cpus {
		set.Set(c)
	}
	return &set, nil
}
