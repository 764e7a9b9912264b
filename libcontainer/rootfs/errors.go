package rootfs

import (
	"errors"
	"fmt"
)

// Sentinel errors, for callers that branch on the cause.
var (
	// ErrOutsideRootfs: a resolved mount target is not inside the rootfs.
	ErrOutsideRootfs = errors.New("path resolves outside the rootfs")
	// ErrNotDirectory: /proc, /sys, or a proc/sysfs mount destination is
	// not an ordinary directory (a symlink, say: CVE-2019-19921,
	// CVE-2023-27561).
	ErrNotDirectory = errors.New("must be mounted on an ordinary directory")
	// ErrProcNotProcfs: /proc is not a procfs where a path is checked
	// through /proc/self/fd (after pivot_root, without a /proc mount, it
	// is the image's own directory, whose fake links would pass).
	ErrProcNotProcfs = errors.New("/proc is not a procfs: cannot check where a path resolves")
	// ErrProcNotProcRoot: /proc is not the root directory of a procfs
	// mount, where rt writes a sysctl (OpenProcWrite).
	ErrProcNotProcRoot = errors.New("/proc is not the root of a procfs")
	// ErrProcOvermounted: something is mounted on the path of a procfs
	// file that rt writes, and would take the write (CVE-2025-52881).
	ErrProcOvermounted = errors.New("something is mounted on the path (refused: the write would go to it)")
	// ErrProcMount: a mount on or inside /proc that is not allowed.
	ErrProcMount = errors.New("mount on /proc not allowed")
	// ErrIDMapNoTree: an idmapped mount without the detached mount tree
	// that the runtime's parent prepares for it (configs.Mount.IDMapFd).
	ErrIDMapNoTree = errors.New("idmapped mount: no prepared mount tree")
	// ErrNotDevNull: the container's /dev/null is not the 1:3 char device
	// (CVE-2025-31133).
	ErrNotDevNull = errors.New("/dev/null is not the null device")
	// ErrNotPty: the console source is not a pty slave on devpts.
	ErrNotPty = errors.New("not a pty slave on devpts")
	// ErrBadDevice: a device entry has an unknown type or a bad path.
	ErrBadDevice = errors.New("invalid device")
)

// MountError is a failed mount(2), with all its arguments.
type MountError struct {
	Source string
	Target string
	FsType string
	Flags  uintptr
	Data   string
	Err    error
}

func (e *MountError) Error() string {
	s := fmt.Sprintf("mount %q on %q", e.Source, e.Target)
	if e.FsType != "" {
		s += fmt.Sprintf(" (type %q)", e.FsType)
	}
	s += fmt.Sprintf(", flags %#x", e.Flags)
	if e.Data != "" {
		s += fmt.Sprintf(", data %q", e.Data)
	}
	return s + ": " + e.Err.Error()
}

func (e *MountError) Unwrap() error { return e.Err }
