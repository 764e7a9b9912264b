package specconv

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
	"github.com/rt-runtime/rt/libcontainer/system"
)

// ValidateProcess checks the fields of a process (of config.json or of
// `rt exec -p`), naming the field at fault.
func ValidateProcess(p *specs.Process) error {
	if err := CheckSizes(p, "process"); err != nil {
		return err
	}
	if p.CommandLine != "" {
		return invalid("process.commandLine", "is Windows-only: use process.args")
	}
	if p.User.Username != "" {
		return invalid("process.user.username", "is Windows-only: use process.user.uid and gid")
	}
	if p.SelinuxLabel != "" {
		return invalid("process.selinuxLabel", "rt has no SELinux support")
	}
	if len(p.Args) == 0 {
		return invalid("process.args", "must not be empty")
	}
	if p.Cwd == "" {
		return invalid("process.cwd", "must be set")
	}
	if !filepath.IsAbs(p.Cwd) {
		return invalid("process.cwd", "%q is not absolute", p.Cwd)
	}
	if p.Capabilities != nil {
		// As runc: names rt or the kernel does not know are dropped with a
		// warning, not refused.
		c := *p.Capabilities
		if unknown := capabilities.DropUnknown(&c); len(unknown) > 0 {
			logrus.Warnf("ignoring unknown or unavailable capabilities: %v", unknown)
			p.Capabilities = &c
		}
	}
	if err := system.ValidateRlimits(p.Rlimits); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if p.Scheduler != nil {
		if err := system.ValidateScheduler(p.Scheduler); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if p.IOPriority != nil {
		if err := system.ValidateIOPriority(p.IOPriority); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if err := validateExecCPUAffinity(p.ExecCPUAffinity); err != nil {
		return err
	}
	if p.ConsoleSize != nil && !p.Terminal {
		return invalid("process.consoleSize", "set but process.terminal is false")
	}
	return nil
}

func convertProcess(p *specs.Process) error {
	return ValidateProcess(p)
}

func validateLinuxExtras(l *specs.Linux) error {
	if l.Seccomp != nil {
		if err := seccomp.Validate(l.Seccomp); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if l.Personality != nil {
		if err := system.ValidatePersonality(l.Personality); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// convertResources validates the cgroup resources and appends runc's
// default device allow-list after the config's own rules.
func convertResources(r *specs.LinuxResources) (*specs.LinuxResources, error) {
	var out specs.LinuxResources
	if r != nil {
		if err := cgroups.ValidateResources(r); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		out = *r
	}
	out.Devices = append(append([]specs.LinuxDeviceCgroup(nil), out.Devices...), cgroups.DefaultAllowedDevices...)
	return &out, nil
}
