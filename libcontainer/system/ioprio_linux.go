package system

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// ValidateIOPriority checks process.ioPriority: a known class and a
// priority in 0..7. A nil p is valid.
func ValidateIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	if _, ok := ioprioClasses[p.Class]; !ok {
		return fmt.Errorf("process.ioPriority.class: unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return fmt.Errorf("process.ioPriority.priority: invalid priority %d (want 0..7)", p.Priority)
	}
	return nil
}

// IOPriorityValue returns ioprio_set(2)'s value for p (validated).
func IOPriorityValue(p *specs.LinuxIOPriority) (uint32, error) {
	if err := ValidateIOPriority(p); err != nil {
		return 0, err
	}
	return uint32(ioprioClasses[p.Class]<<ioprioClassShift | p.Priority), nil
}
