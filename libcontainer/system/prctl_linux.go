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
