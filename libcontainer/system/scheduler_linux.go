package system

import (
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// schedPolicies maps OCI policy names to the kernel's SCHED_* numbers.
var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    0,
	specs.SchedFIFO:     1,
	specs.SchedRR:       2,
	specs.SchedBatch:    3,
	specs.SchedISO:      4,
	specs.SchedIdle:     5,
	specs.SchedDeadline: 6,
}

// schedFlags maps OCI flag names to SCHED_FLAG_* bits.
var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  0x01,
	specs.SchedFlagReclaim:      0x02,
	specs.SchedFlagDLOverrun:    0x04,
	specs.SchedFlagKeepPolicy:   0x08,
	specs.SchedFlagKeepParams:   0x10,
	specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

// ValidateScheduler checks process.scheduler with runc's rules
// (see sched_setattr(2)). A nil s is valid.
func ValidateScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	if s.Policy == "" {
		return fmt.Errorf("process.scheduler.policy: policy is required")
	}
	if _, ok := schedPolicies[s.Policy]; !ok {
		return fmt.Errorf("process.scheduler.policy: unknown policy %q", s.Policy)
	}
	for i, f := range s.Flags {
		if _, ok := schedFlags[f]; !ok {
			return fmt.Errorf("process.scheduler.flags[%d]: unknown flag %q", i, f)
		}
	}
	if (s.Policy == specs.SchedOther || s.Policy == specs.SchedBatch) && (s.Nice < -20 || s.Nice > 19) {
		return fmt.Errorf("process.scheduler.nice: invalid nice %d when policy is %s (want -20..19)", s.Nice, s.Policy)
	}
	if s.Priority != 0 && s.Policy != specs.SchedFIFO && s.Policy != specs.SchedRR {
		return fmt.Errorf("process.scheduler.priority: can only be specified for SCHED_FIFO or SCHED_RR policy")
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return fmt.Errorf("process.scheduler: runtime/deadline/period can only be specified for SCHED_DEADLINE policy")
	}
	return nil
}

// schedAttr builds the sched_setattr(2) argument for s.
func schedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	if err := ValidateScheduler(s); err != nil {
		return nil, err
	}
	attr := &unix.SchedAttr{
		Size:     uint32(unsafe.Sizeof(unix.SchedAttr{})),
		Policy:   schedPolicies[s.Policy],
		Nice:     s.Nice,
		Priority: uint32(s.Priority),
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for _, f := range s.Flags {
		attr.Flags |= schedFlags[f]
	}
	return attr, nil
}

// SchedAttrOf returns the sched_setattr(2) argument for s (validated).
func SchedAttrOf(s *specs.Scheduler) (*unix.SchedAttr, error) {
	return schedAttr(s)
}
