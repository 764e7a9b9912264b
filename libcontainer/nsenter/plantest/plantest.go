// Package plantest builds the C decoder of the process plan (../plan.c) on
// its own, for tests and fuzzing from Go: the same source that the C stage
// links, outside of rt's binary.
package plantest

/*
#cgo CFLAGS: -Wall -O2
#include "../plan.c"
#include "../setup.c"
#include "../pid1_hooks.c"

// plan.c's logging goes to the C stage's log pipe, which tests have not.
void rt_log(const char *level, const char *fmt, ...) { (void)level; (void)fmt; }
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// CapNames returns plan.c's table of capability names.
func CapNames() []string {
	var out []string
	for _, s := range unsafe.Slice(&C.rt_cap_names[0], int(C.RT_CAP_NAMES)) {
		out = append(out, C.GoString(s))
	}
	return out
}

// Parse runs the C decoder (plan.c) on a PlanMsg payload and returns
// what it decoded, as an initproto.Plan, so that tests can hold the C
// reading against the Go encoder. Not used by rt itself.
func Parse(payload []byte) (*initproto.Plan, error) {
	buf := C.malloc(C.size_t(len(payload) + 1))
	defer C.free(buf)
	copy(unsafe.Slice((*byte)(buf), len(payload)), payload)
	var cp C.struct_rt_plan
	if C.rt_plan_parse((*C.char)(buf), C.size_t(len(payload)), &cp) != 0 {
		return nil, errors.New(C.GoString(&C.rt_plan_errmsg[0]))
	}
	defer C.rt_plan_free(&cp)
	p := &initproto.Plan{
		Cwd: C.GoString(cp.cwd), UID: uint32(cp.uid), GID: uint32(cp.gid),
		NoNewPrivs: cp.no_new_privs != 0, PreserveFds: uint32(cp.preserve_fds),
		Terminal: cp.terminal != 0, LateCgroup: cp.late_cgroup != 0,
	}
	for _, s := range unsafe.Slice(cp.argv, 1<<20) {
		if s == nil {
			break
		}
		p.Args = append(p.Args, C.GoString(s))
	}
	for _, s := range unsafe.Slice(cp.env, int(cp.envc)) {
		p.Env = append(p.Env, C.GoString(s))
	}
	if cp.ngroups > 0 {
		for _, g := range unsafe.Slice(cp.groups, int(cp.ngroups)) {
			p.AdditionalGids = append(p.AdditionalGids, uint32(g))
		}
	}
	if cp.umask != 0o22 {
		u := uint32(cp.umask)
		p.Umask = &u
	}
	if cp.has_caps != 0 {
		c := &initproto.PlanCaps{
			LastCap: int(cp.last_cap), Bounding: uint64(cp.cap_bounding), Effective: uint64(cp.cap_effective),
			Permitted: uint64(cp.cap_permitted), Inheritable: uint64(cp.cap_inheritable), Ambient: []int{},
		}
		for i := 0; i < int(cp.nambient); i++ {
			c.Ambient = append(c.Ambient, int(cp.ambient[i]))
		}
		p.Caps = c
	}
	if cp.filter != nil {
		p.Seccomp = &initproto.PlanSeccomp{
			Flags: uint32(cp.seccomp_flags), Notify: cp.seccomp_notify != 0,
			Program: C.GoBytes(unsafe.Pointer(cp.filter), C.int(cp.filter_len)*8),
		}
	}
	if cp.apparmor != nil {
		p.Apparmor = C.GoString(cp.apparmor)
	}
	if cp.nrlimits > 0 {
		for _, r := range unsafe.Slice(cp.rlimits, int(cp.nrlimits)) {
			p.Rlimits = append(p.Rlimits, initproto.PlanRlimit{
				Resource: uint32(r.resource), Soft: uint64(r.soft), Hard: uint64(r.hard), Name: C.GoString(r.name),
			})
		}
	}
	if cp.has_sched != 0 {
		s := cp.sched
		p.Scheduler = &initproto.PlanScheduler{
			Policy: uint32(s.policy), Flags: uint64(s.flags), Nice: int32(s.nice), Priority: uint32(s.priority),
			Runtime: uint64(s.runtime), Deadline: uint64(s.deadline), Period: uint64(s.period), Name: C.GoString(s.name),
		}
	}
	if cp.has_ioprio != 0 {
		v := uint32(cp.ioprio)
		p.IOPriority = &v
	}
	if cp.has_personality != 0 {
		v := uint32(cp.personality)
		p.Personality = &v
	}
	if cp.has_mempolicy != 0 {
		m := &initproto.PlanMemoryPolicy{Mode: uint32(cp.mpol_mode), MaxNode: uint32(cp.mpol_maxnode)}
		if cp.mpol_nodes != nil {
			n := int(cp.mpol_nnodes)
			raw := C.GoBytes(unsafe.Pointer(cp.mpol_nodes), C.int(n*8))
			for i := 0; i < n; i++ {
				m.Nodes = append(m.Nodes, binary.NativeEndian.Uint64(raw[8*i:]))
			}
		}
		p.MemoryPolicy = m
	}
	if cp.has_affinity != 0 {
		p.Affinity = C.GoBytes(unsafe.Pointer(cp.affinity), C.int(cp.affinity_len))
	}
	if cp.has_console_size != 0 {
		p.ConsoleSize = &[2]uint16{uint16(cp.console_rows), uint16(cp.console_cols)}
	}
	if cp.keyring != nil {
		p.Keyring = C.GoString(cp.keyring)
	}
	return p, nil
}

// ProcOpenWrite runs plan.c's proc_open_write (how the C stage opens the
// AppArmor attribute it writes) on /proc/<sub> and closes what it opened.
// Not used by rt itself.
func ProcOpenWrite(sub string) error {
	cs := C.CString(sub)
	defer C.free(unsafe.Pointer(cs))
	fd, err := C.rt_proc_open_write(cs)
	if fd < 0 {
		return err
	}
	C.close(fd)
	return nil
}

// SetupCheck runs the C reader of a SetupPlan payload (setup.c's
// rt_setup_check: every record read, none applied). Not used by rt itself.
func SetupCheck(payload []byte) error {
	buf := C.malloc(C.size_t(len(payload) + 1))
	defer C.free(buf)
	copy(unsafe.Slice((*byte)(buf), len(payload)), payload)
	if C.rt_setup_check((*C.char)(buf), C.size_t(len(payload))) != 0 {
		return errors.New(C.GoString(&C.rt_plan_errmsg[0]))
	}
	return nil
}
