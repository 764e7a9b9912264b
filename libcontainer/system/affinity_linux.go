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

// SetFinalAffinity sets the calling thread's CPU affinity just before it
// execs the container's process: process.execCPUAffinity.final if set;
// else, unless an initial affinity was asked for, every CPU the thread's
// cpuset allows (runc 1.5 resets the affinity inherited from rt's caller:
// `taskset -c 0 runc run` gives a container with all of its cgroup's CPUs).
func SetFinalAffinity(a *specs.CPUAffinity) error {
	if a != nil && a.Final != "" {
		set, err := ParseCPUSet("process.execCPUAffinity.final", a.Final)
		if err != nil {
			return err
		}
		if err := unix.SchedSetaffinity(0, set); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final: sched_setaffinity %q: %w", a.Final, err)
		}
		return nil
	}
	if a != nil && a.Initial != "" {
		return nil
	}
	// Every bit set: the kernel keeps those of the cpuset.
	var all unix.CPUSet
	for i := range all {
		all[i] = ^all[i]
	}
	if err := unix.SchedSetaffinity(0, &all); err != nil {
		return fmt.Errorf("reset CPU affinity: %w", err)
	}
	return nil
}
