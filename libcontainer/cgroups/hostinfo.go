package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// hostInfo is what validation checks values against.
type hostInfo struct {
	cpus          []int    // online cpus
	mems          []int    // online memory nodes
	hugePageSizes []string // "2MB", "1GB", ... (hugetlb file names)
}

// readHostInfo reads the online cpus and memory nodes and the supported
// huge page sizes from sysfs. A machine without NUMA sysfs has node 0.
func readHostInfo() (*hostInfo, error) {
	cpus, err := cgutil.ReadList("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	mems, err := cgutil.ReadList("/sys/devices/system/node/online")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		mems = []int{0}
	}
	sizes, err := hugePageSizes("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil, err
	}
	return &hostInfo{cpus: cpus, mems: mems, hugePageSizes: sizes}, nil
}

// hugePageSizes lists dir's "hugepages-<N>kB" entries as hugetlb size
// names. A kernel without huge pages has none.
func hugePageSizes(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var sizes []string
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		kb, ok = strings.CutSuffix(kb, "kB")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(kb, 10, 64)
		if err != nil {
			continue
		}
		sizes = append(sizes, HugePageSizeName(n*1024))
	}
	sort.Strings(sizes)
	return sizes, nil
}

// HugePageSizeName formats a page size in bytes the way hugetlb names
// its files (and runtime-spec's pageSize): 2097152 -> "2MB",
// 1073741824 -> "1GB", 65536 -> "64KB".
func HugePageSizeName(bytes uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	size := float64(bytes)
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return strconv.FormatFloat(size, 'g', -1, 64) + units[i]
}
