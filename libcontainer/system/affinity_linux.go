package system

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SetInitialAffinity applies process.execCPUAffinity.initial to pid (a
// process that is still single-threaded, so its children inherit it).
func SetInitialAffinity(pid int, a *specs.CPUAffinity) error {
	if a == nil || a.Initial == "" {
		return nil
	}
	set, err := ParseCPUSet("process.execCPUAffinity.initial", a.Initial)
	if err != nil {
		return err
	}
	if err := unix.SchedSetaffinity(pid, set); err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity %q: %w", a.Initial, err)
	}
	return nil
}
