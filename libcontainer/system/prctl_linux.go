package system

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// SetNoNewPrivileges sets no_new_privs on the calling thread
// (prctl PR_SET_NO_NEW_PRIVS). It is kept across execve and inherited by
// children, and it cannot be unset.
func SetNoNewPrivileges() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	return nil
}

// SetDumpable sets the process's dumpable attribute (prctl PR_SET_DUMPABLE).
// A non-dumpable process's /proc entries are owned by root and it cannot be
// ptraced by its namespace peers.
func SetDumpable(dumpable bool) error {
	var v uintptr
	if dumpable {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, v, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, %d): %w", v, err)
	}
	return nil
}

// SetKeepCaps sets or clears PR_SET_KEEPCAPS on the calling thread, so that
// the permitted capabilities survive the change from uid 0 in SetUser.
func SetKeepCaps(keep bool) error {
	var v uintptr
	if keep {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, v, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, %d): %w", v, err)
	}
	return nil
}
