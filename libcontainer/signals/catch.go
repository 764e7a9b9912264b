// Package signals catches the signals rt forwards to the process it waits
// for (`run`, `exec` and `restore` in the foreground): every signal the Go
// runtime's os/signal would deliver to signal.Notify(c) with no arguments,
// as runc's signal handler asks for, and signal 34, which the Go runtime
// cannot catch when rt is linked against musl.
//
// os/signal enables each signal with a round trip to a goroutine locked to
// its own thread (the runtime's signal-mask thread): about 60 of them, each
// two thread handoffs. On create's path that was 0.5 ms and ~130 context
// switches (docs/design.md, "The parent's own work"). Here one cgo call
// installs a small C handler for all of them; the handler writes the
// signal's number to a pipe that a goroutine reads through the netpoller.
package signals

/*
#include "catch.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// notCaught are the signals not forwarded: those the Go runtime needs
// (preemption, profiling, faults: it never delivers them to os/signal
// either), those no process can catch, those the C library keeps for
// itself (32, 33), and SIGPIPE, which rt never forwarded (see install).
var notCaught = map[unix.Signal]bool{
	unix.SIGKILL: true, unix.SIGSTOP: true,
	unix.SIGURG: true, unix.SIGPROF: true, unix.SIGCHLD: true, unix.SIGPIPE: true,
	unix.SIGSEGV: true, unix.SIGBUS: true, unix.SIGFPE: true, unix.SIGILL: true,
	unix.SIGTRAP: true, unix.SIGSYS: true,
	32: true, 33: true,
}

// lastSignal is the highest signal number (SIGRTMAX) on Linux.
const lastSignal = 64

// Caught returns the signals Catch catches, in order.
func Caught() []unix.Signal {
	var sigs []unix.Signal
	for s := unix.Signal(1); s <= lastSignal; s++ {
		if !notCaught[s] {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

var (
	once    sync.Once
	caught  chan unix.Signal
	onceErr error
)

// Catch installs rt's handlers (once per process) and returns the channel
// the caught signals arrive on, in the order they were caught. A signal
// rt gets while nobody reads the channel waits in a pipe (64 KiB of
// signals); beyond that, like os/signal with a full channel, it is
// dropped.
func Catch() (<-chan unix.Signal, error) {
	once.Do(func() { caught, onceErr = install() })
	return caught, onceErr
}

func install() (chan unix.Signal, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("catch signals: pipe: %w", err)
	}
	r := os.NewFile(uintptr(p[0]), "signals")
	// SIGPIPE: a write to a closed stdout or stderr must fail with EPIPE,
	// not kill rt before it deletes the container (TestRunStderrClosed).
	// The Go runtime spares rt when it takes SIGPIPE as ignored, which
	// signal.Ignore records without a hand-off to its signal-mask thread
	// (signal.Notify costs about six context switches); rt's own handler
	// then replaces SIG_IGN, so that no child inherits an ignored SIGPIPE
	// (a caught signal is reset by execve), and the signal is dropped.
	signal.Ignore(unix.SIGPIPE)
	sigs := Caught()
	nums := make([]byte, 0, len(sigs)+1)
	for _, s := range sigs {
		nums = append(nums, byte(s))
	}
	nums = append(nums, byte(unix.SIGPIPE))
	if rc := C.rt_sig_catch(C.int(p[1]), (*C.uchar)(unsafe.Pointer(&nums[0])), C.int(len(nums))); rc != 0 {
		// The handlers installed before the refused one stay, and the
		// pipe with them (the command fails).
		return nil, fmt.Errorf("catch signals: rt_sigaction(%d): %w", -int(rc), errors.ErrUnsupported)
	}
	ch := make(chan unix.Signal, 32)
	go forward(r, ch)
	return ch, nil
}

// forward reads the pipe (the netpoller parks this goroutine between
// signals) and sends each signal on ch.
func forward(r *os.File, ch chan<- unix.Signal) {
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if unix.Signal(b) != unix.SIGPIPE {
				ch <- unix.Signal(b)
			}
		}
		if err != nil {
			return
		}
	}
}
