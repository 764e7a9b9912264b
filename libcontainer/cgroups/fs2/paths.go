package fs2

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// containerDir is the container's cgroup directory: an absolute
// cgroupsPath below the cgroup2 mount; a relative one below the caller's
// own cgroup (own, the "0::" entry of /proc/self/cgroup); an empty one
// is the relative path "<id>", as with the v1 manager.
func containerDir(mount, cgroupsPath, id, own string) (string, error) {
	inner := cgutil.CleanPath(cgroupsPath)
	if inner == "/" {
		return "", fmt.Errorf("cgroupsPath %q: refusing to use the root of the cgroup hierarchy", cgroupsPath)
	}
	if inner == "" {
		inner = cgutil.CleanPath(id)
		if inner == "" || strings.Contains(id, "/") {
			return "", fmt.Errorf("cannot derive a cgroup path from container id %q", id)
		}
	}
	if filepath.IsAbs(inner) {
		return filepath.Join(mount, inner), nil
	}
	if !filepath.IsAbs(own) {
		return "", fmt.Errorf("relative cgroup path %q: the calling process's cgroup %q is not absolute", inner, own)
	}
	// A process outside our cgroup namespace's root shows "/../x":
	// there is no place below the mount for it.
	if own == "/.." || strings.HasPrefix(own, "/../") {
		return "", fmt.Errorf("relative cgroup path %q: the calling process's cgroup %q is outside the mounted hierarchy", inner, own)
	}
	return filepath.Join(mount, own, inner), nil
}
