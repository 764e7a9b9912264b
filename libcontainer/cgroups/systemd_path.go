package cgroups

import (
	"fmt"
	"os"
	"strings"
)

// systemdPath turns a --systemd-cgroup cgroupsPath ("slice:prefix:name")
// into the cgroupfs path systemd itself would use for the container's
// transient scope: "system.slice:rt:abc" -> "/system.slice/rt-abc.scope",
// and a nested slice "a-b.slice" -> "/a.slice/a-b.slice". An empty path is
// "system.slice:rt:<id>".
func systemdPath(cgroupsPath, id string) (string, error) {
	if cgroupsPath == "" {
		cgroupsPath = "system.slice:rt:" + id
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("linux.cgroupsPath %q: with --systemd-cgroup it must be \"slice:prefix:name\"", cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	dir, err := expandSlice(slice)
	if err != nil {
		return "", fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	if name == "" || strings.ContainsAny(name, "/") || strings.ContainsAny(prefix, "/") {
		return "", fmt.Errorf("linux.cgroupsPath %q: bad unit name", cgroupsPath)
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return dir + "/" + unit, nil
}

// expandSlice is systemd's slice path: "a-b-c.slice" lives at
// /a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root.
func expandSlice(slice string) (string, error) {
	if !strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid slice %q", slice)
	}
	if slice == "-.slice" {
		return "", nil
	}
	name := strings.TrimSuffix(slice, ".slice")
	if name == "" || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") || strings.Contains(name, "--") {
		return "", fmt.Errorf("invalid slice %q", slice)
	}
	var path, prefix string
	for _, part := range strings.Split(name, "-") {
		path += "/" + prefix + part + ".slice"
		prefix += part + "-"
	}
	return path, nil
}

// systemdRunning reports whether systemd is the host's init.
func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}
