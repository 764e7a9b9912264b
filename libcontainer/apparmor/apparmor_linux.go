// Package apparmor applies AppArmor exec profiles to the process that rt's
// init is about to execve.
package apparmor

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrNotEnabled is returned by ApplyProfile when a profile is requested but
// AppArmor is not enabled on this host.
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

// execAttrPaths are tried in order: the AppArmor-specific attribute
// directory (Linux 5.8+, works with LSM stacking) then the legacy one.
var execAttrPaths = []string{
	"/proc/thread-self/attr/apparmor/exec",
	"/proc/thread-self/attr/exec",
}

// ApplyProfile asks the kernel to switch the calling thread to AppArmor
// profile name at its next execve, by writing "exec <name>" to the thread's
// exec attribute. An empty name is a no-op. The caller must be on the locked
// OS thread that will execve. If AppArmor is disabled and a profile is asked
// for, the error wraps ErrNotEnabled.
//
// The attribute file is checked to be on a real procfs (fstatfs) before the
// write, so a container image that places something over /proc cannot make
// the profile silently not apply (CVE-2019-16884, CVE-2023-28642).
func ApplyProfile(name string) error {
	if name == "" {
		return nil
	}
	if !IsEnabled() {
		return fmt.Errorf("apply apparmor profile %q: %w", name, ErrNotEnabled)
	}
	var lastErr error
	for _, p := range execAttrPaths {
		err := writeProcAttr(p, "exec "+name)
		if err == nil {
			return nil
		}
		lastErr = err
		if !errors.Is(err, unix.ENOENT) {
			break
		}
	}
	return fmt.Errorf("apply apparmor profile %q: %w", name, lastErr)
}

// writeProcAttr writes value to the procfs file path after checking that the
// opened file really lives on procfs.
func writeProcAttr(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := checkProcfs(fd, path); err != nil {
		return err
	}
	if _, err := f.Write([]byte(value)); err != nil {
		return err
	}
	return nil
}

// ErrNotProcfs is wrapped when a /proc path is not on a procfs mount.
var ErrNotProcfs = errors.New("file is not on procfs")

func checkProcfs(fd int, path string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return &os.PathError{Op: "fstatfs", Path: path, Err: err}
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s: %w (filesystem magic %#x)", path, ErrNotProcfs, st.Type)
	}
	return nil
}
