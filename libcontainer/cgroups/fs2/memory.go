package fs2

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// limitString formats a byte limit: 0 is "leave as is" (""), -1 (or any
// negative) is "max".
func limitString(v int64) string {
	switch {
	case v == 0:
		return ""
	case v < 0:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// SwapV2 converts the spec's memory.swap (a memory+swap limit, as on
// cgroup v1) to cgroup v2's memory.swap.max (swap only), as runc does:
// unlimited memory with swap unset makes swap unlimited too; -1 and 0
// stay; otherwise swap-only = swap - limit, which needs a positive
// memory limit not above swap.
func SwapV2(swap, limit int64) (int64, error) {
	if limit == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if limit == 0 || limit == -1 {
		return 0, errors.New("a swap limit needs a memory limit")
	}
	if limit < 0 {
		return 0, fmt.Errorf("invalid memory limit %d", limit)
	}
	if swap < limit {
		return 0, fmt.Errorf("memory+swap limit %d is below the memory limit %d", swap, limit)
	}
	return swap - limit, nil
}

func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// setMemory writes memory.swap.max, memory.max and memory.low
// (reservation), in runc's order. A kernel without swap accounting (no
// memory.swap.max) is fine when swap is to be unlimited or off.
func setMemory(dir string, mem *specs.LinuxMemory) error {
	if mem == nil {
		return nil
	}
	limit, swapIn := deref(mem.Limit), deref(mem.Swap)
	swap, err := SwapV2(swapIn, limit)
	if err != nil {
		return fmt.Errorf("linux.resources.memory.swap: %w", err)
	}
	swapStr := limitString(swap)
	if swapStr == "" && swap == 0 && swapIn > 0 {
		swapStr = "0" // swap == limit: no swap at all
	}
	if swapStr != "" {
		if err := cgutil.WriteFile(dir, "memory.swap.max", swapStr); err != nil {
			if !(errors.Is(err, fs.ErrNotExist) && (swapStr == "max" || swapStr == "0")) {
				return fmt.Errorf("linux.resources.memory.swap: %w", err)
			}
		}
	}
	if s := limitString(limit); s != "" {
		if mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate && limit > 0 {
			if err := checkMemoryUsage(dir, limit); err != nil {
				return err
			}
		}
		if err := cgutil.WriteFile(dir, "memory.max", s); err != nil {
			return fmt.Errorf("linux.resources.memory.limit: %w", err)
		}
	}
	if s := limitString(deref(mem.Reservation)); s != "" {
		if err := cgutil.WriteFile(dir, "memory.low", s); err != nil {
			return fmt.Errorf("linux.resources.memory.reservation: %w", err)
		}
	}
	return nil
}

// checkMemoryUsage refuses a memory limit below the current usage
// (memory.checkBeforeUpdate).
func checkMemoryUsage(dir string, limit int64) error {
	cur, err := cgutil.ReadUint(dir, "memory.current")
	if err != nil {
		return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
	}
	if uint64(limit) < cur {
		return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d (checkBeforeUpdate)", limit, cur)
	}
	return nil
}
