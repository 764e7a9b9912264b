package system

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetUser switches the calling OS thread to uid and gid with the supplementary
// groups additionalGids, in the order setgroups, setresgid, setresuid.
//
// It uses raw syscalls that change only the calling thread, not the Go
// runtime's "all threads" setuid (syscall.Setuid), because rt's init calls it
// on the locked OS thread that then execs the user process: execve discards
// the other threads, so only this thread's credentials matter, and doing it
// per-thread avoids the runtime's cross-thread signalling in the init. The
// caller must hold runtime.LockOSThread. It never looks up names.
//
// setgroups is skipped (not an error) when no supplementary groups are asked
// for and the user namespace forbids setgroups (/proc/self/setgroups is
// "deny", as for rootless containers).
func SetUser(uid, gid uint32, additionalGids []uint32) error {
	if err := setgroups(additionalGids); err != nil {
		return err
	}
	if _, _, e := unix.RawSyscall(sysSetresgid, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setresgid(%d): %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(sysSetresuid, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("setresuid(%d): %w", uid, e)
	}
	return nil
}

func setgroups(gids []uint32) error {
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	_, _, e := unix.RawSyscall(sysSetgroups, uintptr(len(gids)), uintptr(p), 0)
	if e == 0 {
		return nil
	}
	if errors.Is(e, unix.EPERM) && setgroupsDenied() {
		if len(gids) == 0 {
			return nil
		}
		return fmt.Errorf("setgroups(%v): /proc/self/setgroups is \"deny\" in this user namespace, so additional gids cannot be set: %w", gids, e)
	}
	return fmt.Errorf("setgroups(%v): %w", gids, e)
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && string(bytes.TrimSpace(b)) == "deny"
}
