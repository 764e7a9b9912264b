package fs1

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

const (
	memLimitFile = "memory.limit_in_bytes"
	memSwapFile  = "memory.memsw.limit_in_bytes"
)

// setMemory writes the memory controller settings. As in runc, 0 means
// "leave as is" for the byte limits, and -1 means unlimited.
func setMemory(dir string, mem *specs.LinuxMemory) error {
	if mem == nil {
		return nil
	}
	if mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate && nonZeroI(mem.Limit) && *mem.Limit > 0 {
		// As the v2 driver: a limit below what the cgroup uses is refused
		// rather than left to the OOM killer.
		if usage, err := cgutil.ReadUint(dir, "memory.usage_in_bytes"); err == nil && usage > uint64(*mem.Limit) {
			return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: memory.limit %d is below the current usage %d", *mem.Limit, usage)
		}
	}
	if err := setMemoryAndSwap(dir, mem); err != nil {
		return err
	}
	if nonZeroI(mem.Reservation) {
		if err := cgutil.WriteFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(*mem.Reservation, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.reservation: %w", err)
		}
	}
	if nonZeroI(mem.Kernel) {
		// Deprecated: kernels since 5.16 accept and ignore the write,
		// newer ones may refuse it; neither is worth failing for.
		if cgutil.Exists(dir, "memory.kmem.limit_in_bytes") {
			err := cgutil.WriteFile(dir, "memory.kmem.limit_in_bytes", strconv.FormatInt(*mem.Kernel, 10))
			if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EOPNOTSUPP) {
				return fmt.Errorf("linux.resources.memory.kernel: %w", err)
			}
		}
	}
	if nonZeroI(mem.KernelTCP) {
		if err := writeOptional(dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(*mem.KernelTCP, 10), "memory.kernelTCP"); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil && !swappinessUnset(*mem.Swappiness) {
		v := *mem.Swappiness
		if v > 100 {
			return fmt.Errorf("linux.resources.memory.swappiness: invalid value %d (valid range is 0-100)", v)
		}
		if err := cgutil.WriteFile(dir, "memory.swappiness", strconv.FormatUint(v, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.swappiness: %w", err)
		}
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		if err := cgutil.WriteFile(dir, "memory.oom_control", "1"); err != nil {
			return fmt.Errorf("linux.resources.memory.disableOOMKiller: %w", err)
		}
	}
	if mem.UseHierarchy != nil && cgutil.Exists(dir, "memory.use_hierarchy") {
		val := "0"
		if *mem.UseHierarchy {
			val = "1"
		}
		// Kernels since 5.x are always hierarchical and refuse "0"
		// (EINVAL); runc ignores this setting, so do not fail on it.
		err := cgutil.WriteFile(dir, "memory.use_hierarchy", val)
		if err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("linux.resources.memory.useHierarchy: %w", err)
		}
	}
	return nil
}

// setMemoryAndSwap writes memory.limit_in_bytes and
// memory.memsw.limit_in_bytes in an order the kernel accepts: it keeps
// memsw >= memory at every step, so when the new memsw is above the
// current memory limit (raising), memsw goes first; otherwise (lowering)
// memory goes first.
func setMemoryAndSwap(dir string, mem *specs.LinuxMemory) error {
	var limit, swap int64
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	// An unlimited memory with no swap setting makes swap unlimited too
	// (when swap accounting exists), else memsw would cap memory.
	if limit == -1 && swap == 0 && cgutil.Exists(dir, memSwapFile) {
		swap = -1
	}
	if limit != 0 && swap != 0 {
		cur, err := cgutil.ReadUint(dir, memLimitFile)
		if err != nil {
			return fmt.Errorf("linux.resources.memory.limit: %w", err)
		}
		if swap == -1 || cur < uint64(swap) {
			if err := writeSwap(dir, swap); err != nil {
				return err
			}
			return writeMemoryLimit(dir, limit)
		}
	}
	if err := writeMemoryLimit(dir, limit); err != nil {
		return err
	}
	return writeSwap(dir, swap)
}

func writeMemoryLimit(dir string, limit int64) error {
	if limit == 0 {
		return nil
	}
	err := cgutil.WriteFile(dir, memLimitFile, strconv.FormatInt(limit, 10))
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EBUSY) {
		// The kernel could not reclaim down to the new limit. The usage
		// only decorates the error (0 if unreadable), as in runc.
		usage, _ := cgutil.ReadUint(dir, "memory.usage_in_bytes")
		peak, _ := cgutil.ReadUint(dir, "memory.max_usage_in_bytes")
		return fmt.Errorf("linux.resources.memory.limit: unable to set memory limit to %d (current usage: %d, peak usage: %d): %w", limit, usage, peak, err)
	}
	return fmt.Errorf("linux.resources.memory.limit: %w", err)
}

func writeSwap(dir string, swap int64) error {
	if swap == 0 {
		return nil
	}
	if !cgutil.Exists(dir, memSwapFile) {
		return fmt.Errorf("linux.resources.memory.swap: %s is missing (swap accounting is disabled): %w", memSwapFile, cgutil.ErrNotSupported)
	}
	if err := cgutil.WriteFile(dir, memSwapFile, strconv.FormatInt(swap, 10)); err != nil {
		return fmt.Errorf("linux.resources.memory.swap: %w", err)
	}
	return nil
}
