// Package nsenter holds rt's pre-runtime C stage: a constructor that joins
// and creates namespaces before the Go runtime starts, in `rt init`, and,
// in the rt command itself, gives its threads a coarse timer slack
// (WithChildTimerSlack keeps it from the children). Importing it (for side
// effects) is all a binary needs to do.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
#include "pid1.h"
extern void rt_nsenter(void);
void __attribute__((used)) rt_nsenter_keep(void) { rt_nsenter(); }
static int rt_get_setup_sock(void) { return rt_setup_sock; }
extern long rt_timerslack_orig;
static long rt_get_timerslack_orig(void) { return rt_timerslack_orig; }
*/
import "C"

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// SetupSock returns, in the set-up child of a create whose init stays a C
// process (pid1.c), its socket to that init: the set-up child reports its
// end there (initproto.SetupDone with the root and the pty). -1 in every
// other process.
func SetupSock() int { return int(C.rt_get_setup_sock()) }

// WithChildTimerSlack runs start, which forks a child from the calling
// thread (os/exec's Start, syscall.StartProcess), with that thread's timer
// slack set back, for the call, to the one rt was started with: the child,
// and what it starts (the container), must not inherit rt's coarse one
// (see coarse_timerslack in nsenter.c). Without a coarse slack it is start().
func WithChildTimerSlack(start func() error) error {
	orig := int(C.rt_get_timerslack_orig())
	if orig <= 0 {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("read the thread's timer slack: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(orig), 0, 0, 0); err != nil {
		return fmt.Errorf("set the timer slack a child inherits: %w", err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(cur), 0, 0, 0)
	return start()
}
