// Package apparmor tells whether AppArmor is enabled on the host. The
// profile itself is applied by the C stage (nsenter/plan.c), which writes
// "exec <profile>" to the thread's attribute after checking it is on procfs.
package apparmor

import (
	"errors"
	"os"
	"strings"
	"sync"
)

// ErrNotEnabled is wrapped when a profile is requested but AppArmor is not
// enabled on this host (the parent checks it: the container's /sys says
// nothing true).
var ErrNotEnabled = errors.New("apparmor is not enabled on this system")

const enabledPath = "/sys/module/apparmor/parameters/enabled"

var (
	enabledOnce sync.Once
	enabled     bool
)

// IsEnabled reports whether AppArmor is enabled, i.e. whether
// /sys/module/apparmor/parameters/enabled starts with "Y".
func IsEnabled() bool {
	enabledOnce.Do(func() {
		b, err := os.ReadFile(enabledPath)
		enabled = err == nil && strings.HasPrefix(string(b), "Y")
	})
	return enabled
}
