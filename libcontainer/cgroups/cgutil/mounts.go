package cgutil

import (
	"fmt"
	"strings"

	"github.com/moby/sys/mountinfo"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	// Mountpoint is where the hierarchy is mounted (/sys/fs/cgroup/cpu).
	Mountpoint string
	// Root is the cgroup mounted there, relative to the hierarchy root
	// (the mountinfo root field; "/" unless inside a cgroup namespace or
	// a bind mount of a sub-cgroup).
	Root string
	// Subsystems are the controllers bound to the hierarchy ("cpu",
	// "cpuacct"), plus "name=<x>" for named hierarchies; empty for
	// cgroup v2 (IsUnified).
	Subsystems []string
	// IsUnified is true for a cgroup2 mount.
	IsUnified bool
}

// Mounts lists the cgroup hierarchies mounted in the caller's mount
// namespace, from /proc/self/mountinfo. When a hierarchy is mounted more
// than once, the first mount with root "/" wins, else the first one.
func Mounts() ([]Hierarchy, error) {
	infos, err := utils.Mounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/mountinfo: %w", err)
	}
	known, err := KnownControllers()
	if err != nil {
		return nil, err
	}
	return hierarchiesFromMountinfo(infos, known), nil
}

func hierarchiesFromMountinfo(infos []*mountinfo.Info, known map[string]bool) []Hierarchy {
	var res []Hierarchy
	index := make(map[string]int) // hierarchy key -> index in res
	for _, mi := range infos {
		h := Hierarchy{Mountpoint: mi.Mountpoint, Root: mi.Root}
		var key string
		if mi.FSType == "cgroup2" {
			h.IsUnified = true
			key = "cgroup2"
		} else {
			for _, opt := range strings.Split(mi.VFSOptions, ",") {
				if strings.HasPrefix(opt, "name=") || known[opt] {
					h.Subsystems = append(h.Subsystems, opt)
				}
			}
			if len(h.Subsystems) == 0 {
				continue
			}
			key = strings.Join(h.Subsystems, ",")
		}
		if i, ok := index[key]; ok {
			if res[i].Root != "/" && h.Root == "/" {
				res[i] = h
			}
			continue
		}
		index[key] = len(res)
		res = append(res, h)
	}
	return res
}

// KnownControllers returns the v1 controller names the kernel knows
// (first column of /proc/cgroups).
func KnownControllers() (map[string]bool, error) {
	data, err := utils.ReadFile("/proc/cgroups")
	if err != nil {
		return nil, fmt.Errorf("open /proc/cgroups: %w", unwrapPathError(err))
	}
	res := make(map[string]bool)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if fields := strings.Fields(line); len(fields) > 0 {
			res[fields[0]] = true
		}
	}
	return res, nil
}
