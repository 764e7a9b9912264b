package specconv

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/system"
)

// refuseOtherPlatforms refuses the sections of other platforms: rt runs
// Linux containers and cannot apply them.
func refuseOtherPlatforms(spec *specs.Spec) error {
	for _, p := range []struct {
		field string
		set   bool
	}{
		{"freebsd", spec.FreeBSD != nil}, {"solaris", spec.Solaris != nil}, {"vm", spec.VM != nil},
		{"windows", spec.Windows != nil}, {"zos", spec.ZOS != nil},
	} {
		if p.set {
			return invalid(p.field, "is for another platform: rt runs Linux containers only")
		}
	}
	if spec.Linux.MountLabel != "" {
		return invalid("linux.mountLabel", "rt has no SELinux support")
	}
	return nil
}

// convertMemoryPolicy parses linux.memoryPolicy (applied by the init with
// set_mempolicy(2) just before it execs the process).
func convertMemoryPolicy(c *configs.Config, l *specs.Linux) error {
	if l.MemoryPolicy == nil {
		return nil
	}
	mp, err := system.ParseMemoryPolicy(l.MemoryPolicy)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	c.MemoryPolicy = mp
	return nil
}

// convertIntelRdt checks the form of linux.intelRdt; whether the host has
// resctrl is checked when the container is created.
func convertIntelRdt(c *configs.Config, l *specs.Linux) error {
	r := l.IntelRdt
	if r == nil {
		return nil
	}
	if strings.ContainsAny(r.ClosID, "/\n") || r.ClosID == "." || r.ClosID == ".." {
		return invalid("linux.intelRdt.closID", "%q is not a valid resctrl group name", r.ClosID)
	}
	for i, line := range r.Schemata {
		if strings.Contains(line, "\n") || strings.TrimSpace(line) == "" {
			return invalid(fmt.Sprintf("linux.intelRdt.schemata[%d]", i), "%q is not one schemata line", line)
		}
	}
	if r.MemBwSchema != "" && !strings.HasPrefix(r.MemBwSchema, "MB:") {
		return invalid("linux.intelRdt.memBwSchema", "%q is not an MB schema (MB:<id>=<percent>;...)", r.MemBwSchema)
	}
	if r.L3CacheSchema != "" && !strings.HasPrefix(r.L3CacheSchema, "L3") {
		return invalid("linux.intelRdt.l3CacheSchema", "%q is not an L3 schema (L3:<id>=<mask>;...)", r.L3CacheSchema)
	}
	rc := *r
	c.IntelRdt = &rc
	return nil
}

// validateExecCPUAffinity checks process.execCPUAffinity (applied to the
// processes of `rt exec`: initial before it joins the cgroup, final just
// before execve).
func validateExecCPUAffinity(a *specs.CPUAffinity) error {
	if a == nil {
		return nil
	}
	if a.Initial != "" {
		if _, err := system.ParseCPUSet("process.execCPUAffinity.initial", a.Initial); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if a.Final != "" {
		if _, err := system.ParseCPUSet("process.execCPUAffinity.final", a.Final); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}
