package fs1

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// weightFiles picks the CFQ files (blkio.weight, blkio.weight_device)
// when the kernel has them, else BFQ's (blkio.bfq.weight,
// blkio.bfq.weight_device); ok is false when neither exists.
func weightFiles(dir string) (weight, weightDevice string, ok bool) {
	if cgutil.Exists(dir, "blkio.weight") {
		return "blkio.weight", "blkio.weight_device", true
	}
	if cgutil.Exists(dir, "blkio.bfq.weight") {
		return "blkio.bfq.weight", "blkio.bfq.weight_device", true
	}
	return "", "", false
}

func deviceValue(d specs.LinuxBlockIODevice, v uint64) string {
	return fmt.Sprintf("%d:%d %d", d.Major, d.Minor, v)
}

func setBlkio(dir string, b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	needWeight := b.Weight != nil && *b.Weight != 0
	for _, wd := range b.WeightDevice {
		if wd.Weight != nil && *wd.Weight != 0 {
			needWeight = true
		}
	}
	var weightFile, weightDeviceFile string
	if needWeight {
		var ok bool
		if weightFile, weightDeviceFile, ok = weightFiles(dir); !ok {
			return fmt.Errorf("linux.resources.blockIO.weight: neither blkio.weight (CFQ) nor blkio.bfq.weight (BFQ) exists: %w", cgutil.ErrNotSupported)
		}
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := cgutil.WriteFile(dir, weightFile, strconv.FormatUint(uint64(*b.Weight), 10)); err != nil {
			return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := writeOptional(dir, "blkio.leaf_weight", strconv.FormatUint(uint64(*b.LeafWeight), 10), "blockIO.leafWeight"); err != nil {
			return err
		}
	}
	for i, wd := range b.WeightDevice {
		if wd.Weight != nil && *wd.Weight != 0 {
			if err := cgutil.WriteFile(dir, weightDeviceFile, deviceValue(wd.LinuxBlockIODevice, uint64(*wd.Weight))); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weightDevice[%d].weight: %w", i, err)
			}
		}
		if wd.LeafWeight != nil && *wd.LeafWeight != 0 {
			field := fmt.Sprintf("blockIO.weightDevice[%d].leafWeight", i)
			if err := writeOptional(dir, "blkio.leaf_weight_device", deviceValue(wd.LinuxBlockIODevice, uint64(*wd.LeafWeight)), field); err != nil {
				return err
			}
		}
	}
	throttles := []struct {
		field, file string
		devs        []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for i, td := range t.devs {
			if err := cgutil.WriteFile(dir, t.file, deviceValue(td.LinuxBlockIODevice, td.Rate)); err != nil {
				return fmt.Errorf("linux.resources.blockIO.%s[%d]: %w", t.field, i, err)
			}
		}
	}
	return nil
}
