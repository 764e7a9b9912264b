package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memoryLimitOf returns the memory limit in bytes of the cgroup pid is in:
// memory.limit_in_bytes on cgroup v1, memory.max on v2 ("max" = -1).
func memoryLimitOf(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return 0, fmt.Errorf("cgroup of pid %d: %w", pid, err)
	}
	var v1Path, v2Path string
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2Path = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1Path = parts[2]
			}
		}
	}
	file := ""
	if v1Path != "" {
		mp, err := cgroupMount("cgroup", "memory")
		if err != nil {
			return 0, err
		}
		file = filepath.Join(mp, v1Path, "memory.limit_in_bytes")
	} else {
		mp, err := cgroupMount("cgroup2", "")
		if err != nil {
			return 0, err
		}
		file = filepath.Join(mp, v2Path, "memory.max")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", file, err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "max" {
		return -1, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s %q: %w", file, s, err)
	}
	return v, nil
}

// cgroupMount finds the mount point of fstype (with controller among its
// super options on v1) in /proc/self/mountinfo.
func cgroupMount(fstype, controller string) (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		_, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(post)
		if len(f) < 3 || f[0] != fstype {
			continue
		}
		if controller == "" {
			return strings.Fields(line)[4], nil
		}
		for _, o := range strings.Split(f[2], ",") {
			if o == controller {
				return strings.Fields(line)[4], nil
			}
		}
	}
	return "", fmt.Errorf("no %s mount with %q in mountinfo", fstype, controller)
}
