package seccomp

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Features describes seccomp support for `rt features`, in the shape of
// runc's features.seccomp (without "enabled", see Enabled).
type Features struct {
	Actions        []string `json:"actions,omitempty"`
	Operators      []string `json:"operators,omitempty"`
	Archs          []string `json:"archs,omitempty"`
	KnownFlags     []string `json:"knownFlags,omitempty"`
	SupportedFlags []string `json:"supportedFlags,omitempty"`
}

// Enabled reports whether rt was built with seccomp support (it always is:
// the package links libseccomp) and the kernel has seccomp filters.
func Enabled() bool {
	return kernelHasSeccomp()
}

// Version returns the version of the libseccomp rt is linked with, such as
// "2.5.4".
func Version() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}

// GetFeatures lists the actions, operators, architectures and flags rt
// knows, and the flags this kernel supports.
func GetFeatures() Features {
	f := Features{
		Actions:    sortedKeys(actions),
		Operators:  sortedKeys(operators),
		Archs:      sortedKeys(archs),
		KnownFlags: sortedKeys(flags),
	}
	for _, name := range f.KnownFlags {
		if FlagSupported(name) {
			f.SupportedFlags = append(f.SupportedFlags, name)
		}
	}
	sort.Strings(f.SupportedFlags)
	return f
}

// FlagSupported reports whether the running kernel accepts the seccomp flag
// name. It probes seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL): the kernel
// checks flags before it reads the program, so EFAULT means the flag is
// known and EINVAL that it is not. Nothing is installed.
func FlagSupported(name string) bool {
	bit, ok := flags[specLinuxSeccompFlag(name)]
	if !ok {
		return false
	}
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		// Only valid together with NEW_LISTENER.
		bit |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(bit), 0)
	return errors.Is(e, unix.EFAULT)
}

var (
	kernelOnce sync.Once
	kernelOK   bool
)

// kernelHasSeccomp probes seccomp(2) with a NULL program (see FlagSupported).
func kernelHasSeccomp() bool {
	kernelOnce.Do(func() {
		_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, 0)
		kernelOK = errors.Is(e, unix.EFAULT)
	})
	return kernelOK
}
