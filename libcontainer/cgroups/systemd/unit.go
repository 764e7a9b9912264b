// Package systemd is rt's systemd cgroup driver (--systemd-cgroup): the
// container's cgroup is a transient scope (or slice) unit that rt asks
// systemd to start over D-Bus, with the init as its first process,
// Delegate=yes and the container's resources as unit properties. What
// systemd cannot express is then written to the cgroup files by rt's
// cgroupfs managers (fs2, fs1) over the directory systemd made.
//
// The D-Bus client is github.com/godbus/dbus/v5, used raw: one
// connection (systemd's private socket as root, the user manager's for
// rootless; a bus as the fallback) carries the Manager calls and the
// JobRemoved signals, whose results rt waits for with a bound.
package systemd

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNotRunning: --systemd-cgroup on a host whose init is not systemd.
var ErrNotRunning = errors.New("systemd not running on this host, can't use systemd as cgroups manager")

// IsRunning reports whether the host was booted with systemd (as
// sd_booted(3): /run/systemd/system is a directory).
func IsRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// Unit is where a container lives in systemd's tree.
type Unit struct {
	// Slice is the parent slice ("system.slice").
	Slice string
	// Name is the unit: "<prefix>-<name>.scope", or "<name>" when it
	// ends in ".slice" (then the container gets a slice of its own).
	Name string
}

// IsSlice reports whether the unit is a slice rather than a scope.
func (u Unit) IsSlice() bool { return strings.HasSuffix(u.Name, ".slice") }

// ParseUnit turns a --systemd-cgroup cgroupsPath ("slice:prefix:name")
// into the unit: "system.slice:rt:abc" is rt-abc.scope in system.slice.
// An empty path is ":rt:<id>"; an empty slice is system.slice (rootless:
// user.slice), as runc.
func ParseUnit(cgroupsPath, id string, rootless bool) (Unit, error) {
	if cgroupsPath == "" {
		cgroupsPath = ":rt:" + id
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return Unit{}, fmt.Errorf("linux.cgroupsPath %q: expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups", cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
		if rootless {
			slice = "user.slice"
		}
	}
	if _, err := ExpandSlice(slice); err != nil {
		return Unit{}, fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || strings.ContainsAny(prefix, "/\x00") {
		return Unit{}, fmt.Errorf("linux.cgroupsPath %q: invalid unit name", cgroupsPath)
	}
	u := Unit{Slice: slice, Name: name}
	if !u.IsSlice() {
		u.Name = prefix + "-" + name + ".scope"
	} else if _, err := ExpandSlice(name); err != nil {
		return Unit{}, fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	return u, nil
}

// Path is the unit's cgroup below the slice tree's root ("/" for the
// system manager; the user manager's own cgroup for systemd --user):
// "/system.slice/rt-abc.scope", and "a-b.slice" -> "/a.slice/a-b.slice".
func (u Unit) Path() string {
	if u.IsSlice() {
		// systemd places a slice by its name alone ("a-b.slice" is
		// always /a.slice/a-b.slice), whatever it is wanted by
		own, _ := ExpandSlice(u.Name) // ParseUnit checked the name
		return own
	}
	dir, _ := ExpandSlice(u.Slice) // ParseUnit checked the slice
	return strings.TrimSuffix(dir, "/") + "/" + u.Name
}

// ExpandSlice is systemd's slice path: "a-b-c.slice" lives at
// /a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root "/".
func ExpandSlice(slice string) (string, error) {
	if !strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid slice name: %s", slice)
	}
	name := strings.TrimSuffix(slice, ".slice")
	if name == "-" {
		return "/", nil
	}
	var path, prefix string
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			return "", fmt.Errorf("invalid slice name: %s", slice)
		}
		path += "/" + prefix + part + ".slice"
		prefix += part + "-"
	}
	return path, nil
}
