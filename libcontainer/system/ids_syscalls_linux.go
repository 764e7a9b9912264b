//go:build linux && !386 && !arm

package system

import "golang.org/x/sys/unix"

// Syscall numbers of the 32-bit-id credential calls. On most architectures
// the plain calls already take 32-bit ids.
const (
	sysSetgroups = unix.SYS_SETGROUPS
	sysSetresgid = unix.SYS_SETRESGID
	sysSetresuid = unix.SYS_SETRESUID
)
