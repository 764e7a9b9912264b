package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// Start lets a created container's init exec the user process, then runs
// the poststart hooks. It returns once the user process has been exec'd
// (or has failed to).
func (c *Container) Start() error {
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	if err := checkStatus(OpStart, c.ID(), c.Status()); err != nil {
		return err
	}
	if err := c.start(nil); err != nil {
		return fmt.Errorf("start container %q: %w", c.ID(), err)
	}
	return nil
}

// start releases the init and runs the poststart hooks; on failure the
// container is killed. released, if not nil, runs once the init is
// released, while it execs (Create with Start writes the state then).
func (c *Container) start(released func() error) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	fifoPath := filepath.Join(c.dir, execFifoFile)
	msg, err := c.releaseInit(fifoPath, released)
	// Without the fifo the container is running (as runc: its removal
	// is part of start).
	if rerr := os.Remove(fifoPath); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = fmt.Errorf("remove exec fifo: %w", rerr)
	}
	if err != nil {
		if errors.Is(err, ErrInitStopped) {
			c.killAll() // it can never start; SIGKILL ends a stopped process
		}
		return err
	}
	if msg != "" {
		// The init's own account of why it could not exec.
		c.killAll()
		return &initproto.PeerError{Msg: msg}
	}
	if len(cfg.Hooks.Poststart) > 0 {
		if err := hooks.Run("poststart", cfg.Hooks.Poststart, c.ociState(Running)); err != nil {
			// Spec 1.3: a failing poststart hook stops the container.
			c.killAll()
			return err
		}
	}
	return nil
}

// releaseInit opens the exec fifo for reading, which unblocks the init,
// runs released (if not nil), and reads until the init closes the fifo:
// by exec'ing (nothing read after the first byte) or by reporting an
// error text before exiting.
func (c *Container) releaseInit(fifoPath string, released func() error) (string, error) {
	// The pidfd first, while the init is certainly alive (blocked on the
	// fifo): once the fifo is open, a short process may exec, exit and be
	// reaped before we look.
	pidfd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		return "", fmt.Errorf("open container init: %w", err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	if released != nil {
		if err := released(); err != nil {
			return "", err
		}
	}
	var (
		out      []byte
		gotFirst bool
		buf      [4096]byte
	)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	seenStopped := 0
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		// Not for ever: an init that shares a pid namespace (so is not
		// its init, which ignores SIGSTOP from inside) can be stopped by
		// another process there; seen stopped at two polls in a row, it
		// never will write (see frozenWatch).
		n, err := unix.Poll(fds, int(frozenPollInterval/time.Millisecond))
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return "", fmt.Errorf("wait for container init: %w", err)
		}
		if n == 0 {
			if !processStopped(int32(c.state.InitPid)) {
				seenStopped = 0
			} else if seenStopped++; seenStopped >= 2 {
				return "", fmt.Errorf("%w: pid %d", ErrInitStopped, c.state.InitPid)
			}
			continue
		}
		if fds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
			n, err := unix.Read(fd, buf[:])
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if n > 0 {
				out = append(out, buf[:n]...)
				gotFirst = true
				continue
			}
			if gotFirst {
				// EOF: the init exec'd (its fifo fd was close-on-exec) or died.
				break
			}
		}
		if fds[1].Revents != 0 {
			// The init exited; drain what it wrote.
			for {
				n, _ := unix.Read(fd, buf[:])
				if n <= 0 {
					break
				}
				out = append(out, buf[:n]...)
			}
			if len(out) <= 1 {
				return "", errors.New("container init exited before the process started")
			}
			break
		}
	}
	if len(out) > 0 {
		out = out[1:]
	}
	return strings.TrimSpace(string(out)), nil
}
