package initproto

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

// BootstrapData is what the C stage does before the Go runtime starts. It
// travels as a Bootstrap frame whose payload is NUL-terminated text
// records, parsed by nsenter.c:
//
//	"j<nstype>:<path>"   join the namespace at path (user first, then in order)
//	"l"                  late cgroup placement: no CgroupOK comes
//	"c<cloneflags>"      unshare these namespaces
//	"d"                  set the process non-dumpable
//	"t<clock>:<s>:<ns>"  a time namespace offset
//	"x"                  plan mode: a PlanMsg follows the Pid; the C stage
//	                     applies it and never returns into Go
//	"g<path>"            a cgroup v1 `tasks` file the C stage writes "0" to
//	                     (moves itself) before it joins any namespace
//	"p"                  create: the container's init stays a C process
//	                     (nsenter/pid1.c): it reads a Plan frame, forks a
//	                     set-up child that returns into Go, and applies the
//	                     plan itself
//	"m"                  with "p": no set-up child; a SetupPlan frame
//	                     follows the plan and the init applies it in C
type BootstrapData struct {
	CloneFlags  uintptr
	Joins       []NsJoin
	LateCgroup  bool
	NonDumpable bool
	TimeOffsets []TimeOffset
	Plan        bool
	Pid1        bool
	SetupInC    bool
	// CgroupTasks are cgroup v1 `tasks` files (host paths) the C stage
	// moves itself into, first (exec: see joinCgroupSelf).
	CgroupTasks []string
}

// NsJoin is a namespace to join: its CLONE_NEW* flag and a path.
type NsJoin struct {
	Type uintptr
	Path string
}

// TimeOffset is a time namespace clock offset (clock is a CLOCK_* id).
type TimeOffset struct {
	Clock    int
	Secs     int64
	Nanosecs uint32
}

// The C stage's limits (nsenter.c MAX_JOIN, MAX_TIME, MAX_BOOTSTRAP).
const (
	MaxJoins        = 16
	MaxTimeOffsets  = 4
	MaxCgroupTasks  = 32
	MaxBootstrapLen = 1 << 20
)

// Encode returns the Bootstrap frame. It refuses what the C stage would
// refuse (too many records, a path with a NUL, an oversized payload), so
// the error comes from Go with a clear text.
func (b *BootstrapData) Encode() ([]byte, error) {
	if len(b.Joins) > MaxJoins {
		return nil, fmt.Errorf("bootstrap: %d namespaces to join exceed %d", len(b.Joins), MaxJoins)
	}
	if len(b.CgroupTasks) > MaxCgroupTasks {
		return nil, fmt.Errorf("bootstrap: %d cgroup tasks files exceed %d", len(b.CgroupTasks), MaxCgroupTasks)
	}
	if len(b.TimeOffsets) > MaxTimeOffsets {
		return nil, fmt.Errorf("bootstrap: %d time offsets exceed %d", len(b.TimeOffsets), MaxTimeOffsets)
	}
	var buf bytes.Buffer
	rec := func(s string) {
		buf.WriteString(s)
		buf.WriteByte(0)
	}
	for _, j := range b.Joins {
		if j.Path == "" || bytes.IndexByte([]byte(j.Path), 0) >= 0 {
			return nil, fmt.Errorf("bootstrap: bad namespace path %q", clip(j.Path))
		}
		rec("j" + strconv.FormatUint(uint64(j.Type), 10) + ":" + j.Path)
	}
	for _, t := range b.CgroupTasks {
		if t == "" || t[0] != '/' || bytes.IndexByte([]byte(t), 0) >= 0 {
			return nil, fmt.Errorf("bootstrap: bad cgroup tasks file %q", clip(t))
		}
		rec("g" + t)
	}
	if b.LateCgroup {
		rec("l")
	}
	rec("c" + strconv.FormatUint(uint64(b.CloneFlags), 10))
	if b.NonDumpable {
		rec("d")
	}
	if b.Plan {
		rec("x")
	}
	if b.Pid1 {
		rec("p")
		if b.SetupInC {
			rec("m")
		}
	}
	offs := append([]TimeOffset(nil), b.TimeOffsets...)
	sort.Slice(offs, func(i, j int) bool { return offs[i].Clock < offs[j].Clock })
	for _, o := range offs {
		rec(fmt.Sprintf("t%d:%d:%d", o.Clock, o.Secs, o.Nanosecs))
	}
	if buf.Len() > MaxBootstrapLen {
		return nil, fmt.Errorf("bootstrap: %d bytes exceed %d", buf.Len(), MaxBootstrapLen)
	}
	return Encode(Bootstrap, buf.Bytes()), nil
}

// clip bounds a value quoted in an error message.
func clip(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return s[:max] + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
