package system

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ErrUnknownRlimit is wrapped by errors about an rlimit type rt does not know.
var ErrUnknownRlimit = errors.New("unknown rlimit type")

// rlimitByName maps the OCI rlimit type names to the kernel resource numbers.
var rlimitByName = map[string]int{
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
}

// ValidateRlimits checks process.rlimits: every type must be known, appear
// once, and have soft <= hard.
func ValidateRlimits(r []specs.POSIXRlimit) error {
	seen := make(map[string]bool, len(r))
	for i, l := range r {
		if _, ok := rlimitByName[l.Type]; !ok {
			return fmt.Errorf("process.rlimits[%d]: %w %q", i, ErrUnknownRlimit, l.Type)
		}
		if seen[l.Type] {
			return fmt.Errorf("process.rlimits[%d]: duplicate rlimit type %q", i, l.Type)
		}
		seen[l.Type] = true
		if l.Soft > l.Hard {
			return fmt.Errorf("process.rlimits[%d]: %s soft limit %d is greater than the hard limit %d", i, l.Type, l.Soft, l.Hard)
		}
	}
	return nil
}

// RlimitResource returns the kernel's resource number of an OCI rlimit
// type name (checked by ValidateRlimits).
func RlimitResource(name string) (int, bool) {
	r, ok := rlimitByName[name]
	return r, ok
}
