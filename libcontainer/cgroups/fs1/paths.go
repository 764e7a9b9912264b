package fs1

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// innerPath is the cgroup path the container gets inside each hierarchy:
// the cleaned cgroupsPath, or the container id (relative, like runc's
// default) when cgroupsPath is empty.
func innerPath(cgroupsPath, id string) (string, error) {
	inner := cgutil.CleanPath(cgroupsPath)
	if inner == "/" {
		// The hierarchy roots are never the container's: Destroy would
		// try to remove every cgroup on the host.
		return "", fmt.Errorf("cgroupsPath %q: refusing to use the root of the cgroup hierarchies", cgroupsPath)
	}
	if inner != "" {
		return inner, nil
	}
	inner = cgutil.CleanPath(id)
	if inner == "" || strings.Contains(id, "/") {
		return "", fmt.Errorf("cannot derive a cgroup path from container id %q", id)
	}
	return inner, nil
}

// resolvePaths maps every joined subsystem that has a mounted hierarchy
// to the container's directory in it. An absolute inner path is joined to
// the mountpoint; a relative one to the cgroup the calling process is in
// (own, as read from /proc/self/cgroup) in that hierarchy. The cgroup2
// hierarchy is joined only alongside v1 ones (hybrid host).
func resolvePaths(inner string, hierarchies []cgutil.Hierarchy, own map[string]string) (paths, mountpoints map[string]string, err error) {
	paths = make(map[string]string)
	mountpoints = make(map[string]string)
	haveV1 := false
	for _, h := range hierarchies {
		if !h.IsUnified {
			haveV1 = true
		}
	}
	for _, h := range hierarchies {
		var keys []string
		if h.IsUnified {
			if !haveV1 {
				continue
			}
			keys = []string{unifiedKey}
		} else {
			for _, s := range h.Subsystems {
				if isJoinedSubsystem(s) {
					keys = append(keys, s)
				}
			}
		}
		for _, key := range keys {
			dir, err := subsystemPath(inner, key, h, own)
			if err != nil {
				return nil, nil, err
			}
			paths[key] = dir
			mountpoints[key] = h.Mountpoint
		}
	}
	if len(paths) == 0 {
		return nil, nil, errors.New("no cgroup v1 hierarchy is mounted")
	}
	return paths, mountpoints, nil
}

func subsystemPath(inner, key string, h cgutil.Hierarchy, own map[string]string) (string, error) {
	if filepath.IsAbs(inner) {
		return filepath.Join(h.Mountpoint, inner), nil
	}
	name := key
	if name == unifiedKey {
		name = "cgroup2"
	}
	cur, ok := own[key]
	if !ok {
		return "", fmt.Errorf("relative cgroup path %q: the calling process has no %s cgroup in /proc/self/cgroup", inner, name)
	}
	rel, err := filepath.Rel(h.Root, cur)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("relative cgroup path %q: the calling process's %s cgroup %q is outside the mounted root %q", inner, name, cur, h.Root)
	}
	return filepath.Join(h.Mountpoint, rel, inner), nil
}
