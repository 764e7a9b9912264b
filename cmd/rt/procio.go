package main

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer"
	sigcatch "github.com/rt-runtime/rt/libcontainer/signals"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

// What create, run, exec and restore share around the process they
// start: its stdio, its console socket, its pidfd socket (procIO), and
// the signals rt forwards to it while it waits in the foreground
// (signals, waitForwarding).

// procIO is the stdio and the sockets of a container process, for the
// core's options (IO, ConsoleSocket, PidfdSocket).
type procIO struct {
	IO            libcontainer.IO
	ConsoleSocket *os.File // --console-socket, or rt's own (pair); nil: none
	PidfdSocket   *os.File // --pidfd-socket; nil: none

	proxy *utils.StdioProxy // foreground without a terminal
	pair  *consolePair      // foreground with a terminal: rt holds the pty
	files []*os.File        // connected sockets, closed by done
	once  sync.Once
}

// ioFor sets up the process's stdio and sockets from the command's flags
// (those it has): in the foreground without a terminal, rt's stdio
// reaches the process through a proxy (proxyStdio), so that it never gets
// rt's terminal; --console-socket is connected, or, in the foreground
// with a terminal, rt makes its own socket and attaches the pty master to
// its terminal (detached with a terminal and no --console-socket is
// runc's error); --pidfd-socket is connected. Call done once the core
// has started the process (or failed to).
func ioFor(c *cli.Context, terminal, foreground, proxyStdio bool) (_ *procIO, retErr error) {
	p := &procIO{IO: libcontainer.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}}
	defer func() {
		if retErr != nil {
			p.done()
		}
	}()
	if foreground && !terminal && proxyStdio {
		proxy, err := utils.ProxyTerminalStdio(os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			return nil, err
		}
		if proxy != nil {
			p.proxy = proxy
			p.IO = libcontainer.IO{Stdin: proxy.Stdin, Stdout: proxy.Stdout, Stderr: proxy.Stderr}
		}
	}
	if path := c.String("console-socket"); path != "" {
		sock, err := utils.ConnectConsoleSocket(path)
		if err != nil {
			return nil, fmt.Errorf("--console-socket: %w", err)
		}
		p.files = append(p.files, sock)
		p.ConsoleSocket = sock
	} else if terminal {
		if !foreground {
			return nil, errors.New("cannot allocate tty if rt will detach without setting console socket")
		}
		pair, err := newConsolePair()
		if err != nil {
			return nil, err
		}
		p.pair = pair
		p.ConsoleSocket = pair.remote
	}
	if path := c.String("pidfd-socket"); path != "" {
		sock, err := utils.ConnectConsoleSocket(path)
		if err != nil {
			return nil, fmt.Errorf("--pidfd-socket: %w", err)
		}
		p.files = append(p.files, sock)
		p.PidfdSocket = sock
	}
	return p, nil
}

// done closes what went to the process (the proxy's child ends, rt's end
// of the console pair the init had, the connected sockets) once the core
// returned. Calling it again does nothing.
func (p *procIO) done() {
	p.once.Do(func() {
		p.proxy.CloseChildEnds()
		if p.pair != nil {
			p.pair.remote.Close()
		}
		for _, f := range p.files {
			f.Close()
		}
	})
}

// attach attaches rt's terminal to the process's pty when rt holds it
// (nil otherwise); the caller restores the terminal.
func (p *procIO) attach() (*runConsole, error) {
	if p.pair == nil {
		return nil, nil
	}
	return p.pair.attach()
}

// waitForeground waits for the process (pid) with wait, forwarding the
// signals rt gets to it with signal, then lets its output drain (bounded)
// and gives rt's terminal back. It returns the process's exit status.
func (p *procIO) waitForeground(sigs *signals, pid int, wait func() (int, error), signal func(unix.Signal) error, tty *runConsole) (int, error) {
	status, err := waitForwarding(pid, wait, signal, sigs, tty)
	p.proxy.Wait(stdioDrain)
	if tty != nil {
		tty.restore()
	}
	return status, err
}

// signals are the signals rt catches to forward them to the process it
// waits for (package signals); ch is nil when rt forwards nothing.
type signals struct {
	ch <-chan unix.Signal
}

// catchSignals starts catching every signal (on), or nothing.
func catchSignals(on bool) (*signals, error) {
	if !on {
		return &signals{}, nil
	}
	ch, err := sigcatch.Catch()
	if err != nil {
		return nil, err
	}
	return &signals{ch: ch}, nil
}

// waitForwarding runs wait while forwarding the signals rt receives with
// signal (SIGWINCH resizes the pty instead), and returns wait's status.
func waitForwarding(pid int, wait func() (int, error), signal func(unix.Signal) error, sigs *signals, tty *runConsole) (int, error) {
	done := make(chan struct{})
	var status int
	var werr error
	go func() {
		status, werr = wait()
		close(done)
	}()
	for {
		select {
		case sig := <-sigs.ch:
			switch sig {
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				// runc's --debug lines (signals.go), which people grep for.
				logrus.Debugf("forwarding signal %d (%s) to %d", int(sig), unix.SignalName(sig), pid)
				if err := signal(sig); err != nil {
					logrus.Error(err)
				}
			}
		case <-done:
			if werr == nil {
				logrus.WithFields(logrus.Fields{"pid": pid, "status": status}).Debug("process exited")
			}
			if tty != nil {
				tty.wait()
			}
			return status, werr
		}
	}
}
