package fs1

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// setCPURealtime writes cpu.rt_period_us and cpu.rt_runtime_us. The kernel
// checks each write against the other value (runtime <= period, and
// against the parent's budget), so no one order works for every change:
// as runc, the period goes first, and if the kernel refuses it (EINVAL)
// while a runtime is being set too, it is written again after the runtime
// (a period and runtime both lowered: the runtime must go down first).
func setCPURealtime(dir string, c *specs.LinuxCPU) error {
	period := ""
	if nonZeroU(c.RealtimePeriod) {
		period = strconv.FormatUint(*c.RealtimePeriod, 10)
		err := writeOptional(dir, "cpu.rt_period_us", period, "cpu.realtimePeriod")
		switch {
		case err == nil:
			period = ""
		case !errors.Is(err, unix.EINVAL) || !nonZeroI(c.RealtimeRuntime):
			return err
		}
	}
	if nonZeroI(c.RealtimeRuntime) {
		if err := writeOptional(dir, "cpu.rt_runtime_us", strconv.FormatInt(*c.RealtimeRuntime, 10), "cpu.realtimeRuntime"); err != nil {
			return err
		}
		if period != "" {
			if err := writeOptional(dir, "cpu.rt_period_us", period, "cpu.realtimePeriod"); err != nil {
				return err
			}
		}
	}
	return nil
}

// setCPU writes the cpu controller settings: shares (checked by reading
// back, since the kernel clamps), CFS period and quota (with a retry
// of the period when the kernel rejects it before the new quota is in),
// burst, idle and the real-time budget.
func setCPU(dir string, c *specs.LinuxCPU) error {
	if c == nil {
		return nil
	}
	if nonZeroU(c.Shares) {
		want := *c.Shares
		if err := cgutil.WriteFile(dir, "cpu.shares", strconv.FormatUint(want, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		got, err := cgutil.ReadUint(dir, "cpu.shares")
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		if want > got {
			return fmt.Errorf("linux.resources.cpu.shares: %d is above the maximum allowed cpu-shares %d", want, got)
		} else if want < got {
			return fmt.Errorf("linux.resources.cpu.shares: %d is below the minimum allowed cpu-shares %d", want, got)
		}
	}

	pendingPeriod := ""
	if nonZeroU(c.Period) {
		period := strconv.FormatUint(*c.Period, 10)
		if err := cgutil.WriteFile(dir, "cpu.cfs_period_us", period); err != nil {
			// A smaller period can be rejected (EINVAL) while the old
			// quota/period ratio breaks a parent limit; retry it after
			// the quota when one is being set.
			if !errors.Is(err, unix.EINVAL) || !nonZeroI(c.Quota) {
				return fmt.Errorf("linux.resources.cpu.period: %w", err)
			}
			pendingPeriod = period
		}
	}
	if nonZeroI(c.Quota) {
		if err := cgutil.WriteFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.quota: %w", err)
		}
		if pendingPeriod != "" {
			if err := cgutil.WriteFile(dir, "cpu.cfs_period_us", pendingPeriod); err != nil {
				return fmt.Errorf("linux.resources.cpu.period: %w", err)
			}
		}
	}
	if c.Burst != nil {
		// 0 is a meaningful burst (none); write it when the file exists.
		if *c.Burst != 0 || cgutil.Exists(dir, "cpu.cfs_burst_us") {
			if err := writeOptional(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10), "cpu.burst"); err != nil {
				return err
			}
		}
	}
	if c.Idle != nil {
		if *c.Idle != 0 || cgutil.Exists(dir, "cpu.idle") {
			if err := writeOptional(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10), "cpu.idle"); err != nil {
				return err
			}
		}
	}
	return setCPURealtime(dir, c)
}

// writeOptional writes a file some kernels lack; a missing file is
// reported as ErrNotSupported naming the spec field.
func writeOptional(dir, file, val, field string) error {
	if !cgutil.Exists(dir, file) {
		return fmt.Errorf("linux.resources.%s: %s: %w", field, file, cgutil.ErrNotSupported)
	}
	if err := cgutil.WriteFile(dir, file, val); err != nil {
		return fmt.Errorf("linux.resources.%s: %w", field, err)
	}
	return nil
}
