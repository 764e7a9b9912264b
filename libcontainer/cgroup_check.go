package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
)

// Sentinel errors of the checks on a container's cgroup before its init is
// placed there (runc 1.5's texts).
var (
	// ErrCgroupNotEmpty: the cgroup already has processes.
	ErrCgroupNotEmpty = errors.New("container's cgroup is not empty")
	// ErrCgroupFrozen: the cgroup is frozen; an init placed there would
	// freeze and create would wait for it.
	ErrCgroupFrozen = errors.New("container's cgroup unexpectedly frozen")
	// ErrInitStopped: the container's process was stopped (SIGSTOP, which
	// a process of the container may send it) before it exec'd.
	ErrInitStopped = errors.New("container's process stopped by a signal before it exec'd")
)

// checkCgroupUnused refuses a cgroup that already exists and has processes
// or is frozen, before anything is placed in it (as runc's Create).
func checkCgroupUnused(m cgroups.Manager) error {
	if m.Exists() {
		pids, err := m.GetPids()
		if err != nil && !errors.Is(err, cgroups.ErrNotExist) && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("unable to get cgroup PIDs: %w", err)
		}
		if len(pids) != 0 {
			return fmt.Errorf("%w: %d process(es) found", ErrCgroupNotEmpty, len(pids))
		}
	}
	frozen, err := m.IsFrozen()
	if err != nil {
		if !errors.Is(err, cgroups.ErrNotExist) && !errors.Is(err, os.ErrNotExist) &&
			!errors.Is(err, cgroups.ErrNotMounted) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("unable to get cgroup freezer state: %w", err)
		}
		frozen = false // no freezer, or no cgroup yet
	}
	if frozen || cgroupEffectivelyFrozen(m) {
		// The second: frozen through an ancestor, which would freeze the
		// init just as well (runc checks only the cgroup itself).
		return ErrCgroupFrozen
	}
	return nil
}

// frozenWatch bounds the parent's wait on an init (or exec'd process)
// placed in a cgroup: if the cgroup is frozen meanwhile (by an ancestor, or
// by someone writing its freezer), the process cannot make progress and
// rt would wait for it for ever. The watch then thaws the cgroup (so that
// the caller's clean-up can kill the process) and shuts the init socket
// down, so that the blocked read returns and the caller fails with
// ErrCgroupFrozen.
//
// It also watches the container's process once its pid is known (setPid):
// a process of the container may stop it (SIGSTOP) before it execs, and
// would hold rt for ever; seen stopped at two polls in a row (so that a
// stop just after its execve, which ends the wait anyway, is not taken for
// it), the watch shuts the socket down the same way and the caller fails
// with ErrInitStopped (and kills the process: SIGKILL ends a stopped one).
type frozenWatch struct {
	stop    chan struct{}
	done    chan struct{}
	fired   bool
	stopped bool
	pid     atomic.Int32
}

// setPid starts the watch on the container's process (nil: no watch).
func (w *frozenWatch) setPid(pid int) {
	if w != nil {
		w.pid.Store(int32(pid))
	}
}

// processStopped reports whether pid is in a group stop ("T"; not a
// tracer's stop, "t": a debugger on the host is no attack).
func processStopped(pid int32) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold anything, the state follows the
	// last ')'.
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'T'
}

// frozenPollInterval is how often the watch looks at the freezer.
const frozenPollInterval = 250 * time.Millisecond

func watchFrozen(m cgroups.Manager, sockFd int) *frozenWatch {
	w := &frozenWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(frozenPollInterval)
		defer t.Stop()
		seenStopped := 0
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			if pid := w.pid.Load(); pid > 0 && processStopped(pid) {
				if seenStopped++; seenStopped >= 2 {
					w.stopped = true
					warnIf("shut the init socket down", unix.Shutdown(sockFd, unix.SHUT_RDWR))
					return
				}
			} else {
				seenStopped = 0
			}
			if m == nil || !cgroupEffectivelyFrozen(m) {
				continue
			}
			w.fired = true
			warnIf("thaw the frozen cgroup", m.Thaw())
			warnIf("shut the init socket down", unix.Shutdown(sockFd, unix.SHUT_RDWR))
			return
		}
	}()
	return w
}

// end stops the watch (nil: no watch) and returns err, or, when the watch
// fired, an ErrCgroupFrozen error that tells why the wait ended.
func (w *frozenWatch) end(err error) error {
	if w == nil {
		return err
	}
	select {
	case <-w.done:
	default:
		close(w.stop)
		<-w.done
	}
	if w.fired || w.stopped {
		// The watch shut the socket down, so the wait ended with the
		// socket's end: that says nothing more. Another error does.
		var more error
		if err != nil && !isInitGone(err) {
			more = err
		}
		var why error
		if w.stopped {
			why = fmt.Errorf("%w: killed", ErrInitStopped) // the caller kills it
		} else {
			why = fmt.Errorf("%w while waiting for the container's process", ErrCgroupFrozen)
		}
		if more != nil {
			return fmt.Errorf("%w: %w", why, more)
		}
		return why
	}
	return err
}

// cgroupEffectivelyFrozen reports whether the cgroup is frozen, by itself
// or through an ancestor.
func cgroupEffectivelyFrozen(m cgroups.Manager) bool {
	f, err := m.EffectivelyFrozen()
	return err == nil && f
}
