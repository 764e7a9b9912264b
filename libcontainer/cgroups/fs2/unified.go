package fs2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// CheckUnifiedKey rejects a linux.resources.unified key that is not a
// plain "controller.name" file name, or whose controller is not in
// avail ("cgroup.*" core files are always allowed).
func CheckUnifiedKey(key string, avail map[string]bool) error {
	field := fmt.Sprintf("linux.resources.unified[%q]", key)
	if key == "" || strings.Contains(key, "/") || strings.Contains(key, "..") {
		return fmt.Errorf("%s: not a cgroup interface file name (no \"/\" or \"..\" allowed)", field)
	}
	c, rest, ok := strings.Cut(key, ".")
	if !ok || c == "" || rest == "" {
		return fmt.Errorf("%s: not of the form controller.name", field)
	}
	if c != "cgroup" && !avail[c] {
		return fmt.Errorf("%s: controller %q is not in cgroup.controllers (%s): %w", field, c, listControllers(avail), ErrControllerUnavailable)
	}
	return nil
}

// setUnified writes every linux.resources.unified entry verbatim, in key
// order; a multi-line value is written one line at a time (the kernel
// takes one entry per write for files like io.max).
func setUnified(dir string, u map[string]string, avail map[string]bool) error {
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := CheckUnifiedKey(k, avail); err != nil {
			return err
		}
		if !cgutil.Exists(dir, k) {
			return fmt.Errorf("linux.resources.unified[%q]: no such file in %s: %w", k, dir, cgutil.ErrNotSupported)
		}
		for _, line := range strings.Split(u[k], "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := cgutil.WriteFile(dir, k, line); err != nil {
				return fmt.Errorf("linux.resources.unified[%q]: %w", k, err)
			}
		}
	}
	return nil
}
