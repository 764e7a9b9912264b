package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/nsenter"
)

// childCmd starts the C stage of `rt init`, as os/exec would, through
// syscall.StartProcess: os.StartProcess first checks, once per process,
// that pidfds work, with a vfork and a wait of its own (0.1-0.3 ms on
// create's and exec's path, measured: docs/design.md, "The parent's own
// work"). rt needs no pidfd of this child: it waits for it once, or lets it
// live on.
type childCmd struct {
	// Exe is the program, executed by its /proc/self/fd path (a sealed
	// memfd): see Start.
	Exe         *os.File
	Args        []string
	Env         []string
	Stdin       *os.File // nil: /dev/null, as os/exec gives
	Stdout      *os.File
	Stderr      *os.File
	ExtraFiles  []*os.File // become fds 3, 4, ...
	SysProcAttr *syscall.SysProcAttr

	Process *initChild // after Start
}

// Start starts the child; its files are dup'ed into it, and rt's copies
// stay open.
func (c *childCmd) Start() error {
	files := make([]uintptr, 0, 3+len(c.ExtraFiles))
	for i, f := range []*os.File{c.Stdin, c.Stdout, c.Stderr} {
		if f == nil {
			flag := os.O_WRONLY
			if i == 0 {
				flag = os.O_RDONLY
			}
			null, err := os.OpenFile(os.DevNull, flag|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer null.Close()
			f = null
		}
		files = append(files, f.Fd())
	}
	for _, f := range c.ExtraFiles {
		files = append(files, f.Fd())
	}
	// The child execs /proc/self/fd/N after its files are moved into
	// place: fd 0, 1, ... len(files)-1, and syscall.forkExec moves up to
	// len(files) of them (and its pipe) to free numbers counted from the
	// highest of them. An Exe numbered among those (a process that opened
	// few files gets a memfd at 3 or 4) would be some other file by then:
	// the exec fails (EACCES), or runs what that file holds. So Exe is
	// executed through a duplicate numbered above all of them.
	top := len(files)
	for _, fd := range files {
		top = max(top, int(fd)+1)
	}
	exeFd, err := unix.FcntlInt(c.Exe.Fd(), unix.F_DUPFD_CLOEXEC, top+len(files)+2)
	if err != nil {
		return fmt.Errorf("start init process: duplicate the program's descriptor: %w", err)
	}
	defer unix.Close(exeFd)
	path := "/proc/self/fd/" + strconv.Itoa(exeFd)
	var pid int
	err = nsenter.WithChildTimerSlack(func() (err error) {
		pid, _, err = syscall.StartProcess(path, c.Args, &syscall.ProcAttr{
			Env:   c.Env,
			Files: files,
			Sys:   c.SysProcAttr,
		})
		return err
	})
	// (The files stay referenced by c until here: Fd's numbers are valid.)
	if err != nil {
		return &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	c.Process = &initChild{pid: pid}
	return nil
}

// initChild is the started C stage: rt's child until it is waited for.
type initChild struct {
	pid    int
	reaped bool
}

// kill sends it SIGKILL (nothing once it is reaped: its pid may be
// another process's by then).
func (c *initChild) kill() {
	if !c.reaped {
		unix.Kill(c.pid, unix.SIGKILL)
	}
}

// wait reaps it (once).
func (c *initChild) wait() error {
	if c.reaped {
		return nil
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(c.pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		c.reaped = true
		if err != nil {
			return fmt.Errorf("wait for the init's C stage (pid %d): %w", c.pid, err)
		}
		return nil
	}
}
