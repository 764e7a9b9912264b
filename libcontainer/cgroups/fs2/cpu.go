package fs2

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// CPUWeight converts cgroup v1 cpu.shares (2-262144) to cgroup v2
// cpu.weight (1-10000) with runc's linear formula; 0 stays 0 (unset).
func CPUWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	return 1 + ((shares-2)*9999)/262142
}

// CPUMax formats cpu.max from quota and period (0: leave as is): a
// quota of -1 is "max"; a period alone keeps "max".
func CPUMax(quota int64, period uint64) string {
	if quota == 0 && period == 0 {
		return ""
	}
	s := "max"
	if quota > 0 {
		s = strconv.FormatInt(quota, 10)
	}
	if period != 0 {
		s += " " + strconv.FormatUint(period, 10)
	}
	return s
}

// setCPU writes cpu.idle, cpu.weight (from shares), cpu.max.burst and
// cpu.max, in runc's order; the burst is written again after cpu.max
// because the kernel refuses a burst above the old quota (ENXIO without
// a quota at all).
func setCPU(dir string, c *specs.LinuxCPU) error {
	if c == nil {
		return nil
	}
	if c.Idle != nil {
		if err := cgutil.WriteFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.idle: %w", err)
		}
	}
	if nonZeroU(c.Shares) {
		w := strconv.FormatUint(CPUWeight(*c.Shares), 10)
		if err := cgutil.WriteFile(dir, "cpu.weight", w); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares (cpu.weight %s): %w", w, err)
		}
	}
	var quota int64
	var period uint64
	if c.Quota != nil {
		quota = *c.Quota
	}
	if c.Period != nil {
		period = *c.Period
	}
	max := CPUMax(quota, period)
	burst := ""
	if c.Burst != nil {
		burst = strconv.FormatUint(*c.Burst, 10)
		// With cpu.max to follow, a refusal is retried after it; without,
		// ENXIO (no quota to burst above) is ignored, as runc does.
		err := cgutil.WriteFile(dir, "cpu.max.burst", burst)
		if err != nil && max == "" && !errors.Is(err, unix.ENXIO) {
			return fmt.Errorf("linux.resources.cpu.burst: %w", err)
		}
	}
	if s := max; s != "" {
		if err := cgutil.WriteFile(dir, "cpu.max", s); err != nil {
			return fmt.Errorf("linux.resources.cpu.quota/period (cpu.max %q): %w", s, err)
		}
		if burst != "" {
			if err := cgutil.WriteFile(dir, "cpu.max.burst", burst); err != nil {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
		}
	}
	return nil
}
