package fs1

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/cgroups/devices"
)

// setDevices applies the spec's device rules, in order, after a
// deny-all, so devices.list ends up holding exactly the allowed entries
// in the order given. An empty rule list leaves the cgroup as it is
// (callers always pass the default allow-list on create). When
// devices.list already shows the wanted state nothing is written, so an
// update of an unchanged list never opens a window where every device is
// denied (and does not fail on a cgroup with children, where the kernel
// refuses "a" entries).
func setDevices(dir string, rules []specs.LinuxDeviceCgroup) error {
	if len(rules) == 0 {
		return nil
	}
	writes, policy, err := devices.Compile(rules)
	if err != nil {
		return err
	}
	if cur, err := cgutil.ReadFile(dir, "devices.list"); err == nil && cur == policy.List() {
		return nil
	}
	// Each file opened once for all its rules (a write is one rule).
	fds := map[bool]int{}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, r := range writes {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		fd, ok := fds[r.Allow]
		if !ok {
			if fd, err = cgutil.OpenWrite(dir, file); err != nil {
				return fmt.Errorf("linux.resources.devices: %q: %w", r.String(), err)
			}
			fds[r.Allow] = fd
		}
		if err := cgutil.WriteFD(fd, filepath.Join(dir, file), r.String()); err != nil {
			return fmt.Errorf("linux.resources.devices: %q: %w", r.String(), err)
		}
	}
	return nil
}
