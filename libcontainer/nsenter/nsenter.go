// Package nsenter holds rt's pre-runtime C stage: a constructor that joins
// and creates namespaces before the Go runtime starts, in `rt init`.
// Importing it (for side effects) is all a binary needs to do.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
#include "pid1.h"
extern void rt_nsenter(void);
void __attribute__((used)) rt_nsenter_keep(void) { rt_nsenter(); }
static int rt_get_setup_sock(void) { return rt_setup_sock; }
*/
import "C"

// SetupSock returns, in the set-up child of a create whose init stays a C
// process (pid1.c), its socket to that init: the set-up child reports its
// end there (initproto.SetupDone with the root and the pty). -1 in every
// other process.
func SetupSock() int { return int(C.rt_get_setup_sock()) }
