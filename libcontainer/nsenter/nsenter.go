// Package nsenter holds rt's pre-runtime C stage: a constructor that joins
// and creates namespaces before the Go runtime starts, in `rt init`.
// Importing it (for side effects) is all a binary needs to do.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
extern void rt_nsenter(void);
void __attribute__((used)) rt_nsenter_keep(void) { rt_nsenter(); }
*/
import "C"
