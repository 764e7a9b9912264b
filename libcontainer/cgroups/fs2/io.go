package fs2

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// IOWeight converts a cgroup v1 blkio weight (10-1000) to cgroup v2
// io.weight (1-10000) with runc's formula; 0 stays 0 (unset), values
// below v1's minimum of 10 map to 1.
func IOWeight(blkio uint16) uint64 {
	if blkio == 0 {
		return 0
	}
	if blkio < 10 {
		return 1
	}
	return 1 + (uint64(blkio)-10)*9999/990
}

// ioMaxLine formats one io.max line; a rate of 0 removes the limit
// ("max"), as writing 0 does on cgroup v1.
func ioMaxLine(d specs.LinuxThrottleDevice, key string) string {
	v := "max"
	if d.Rate != 0 {
		v = strconv.FormatUint(d.Rate, 10)
	}
	return fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, key, v)
}

// setIO writes the block I/O weight (io.bfq.weight with the BFQ
// scheduler, which takes v1's 1-1000 range as is; else io.weight,
// converted), per-device BFQ weights, and the throttles to io.max.
func setIO(dir string, b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	bfq := cgutil.Exists(dir, "io.bfq.weight")
	if nonZeroW(b.Weight) {
		if bfq {
			if err := cgutil.WriteFile(dir, "io.bfq.weight", strconv.FormatUint(uint64(*b.Weight), 10)); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
			}
		} else {
			w := strconv.FormatUint(IOWeight(*b.Weight), 10)
			if err := cgutil.WriteFile(dir, "io.weight", w); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weight (io.weight %s): %w", w, err)
			}
		}
	}
	for i, wd := range b.WeightDevice {
		if !nonZeroW(wd.Weight) {
			continue
		}
		if !bfq {
			return fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: per-device weights need the BFQ I/O scheduler (no io.bfq.weight in %s): %w",
				i, dir, cgutil.ErrNotSupported)
		}
		line := fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight)
		if err := cgutil.WriteFile(dir, "io.bfq.weight", line); err != nil {
			return fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: %w", i, err)
		}
	}
	for _, t := range []struct {
		field, key string
		devs       []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.devs {
			if err := cgutil.WriteFile(dir, "io.max", ioMaxLine(d, t.key)); err != nil {
				return fmt.Errorf("linux.resources.blockIO.%s[%d]: %w", t.field, i, err)
			}
		}
	}
	return nil
}
