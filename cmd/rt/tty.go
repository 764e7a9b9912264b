package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/containerd/console"
	"github.com/sirupsen/logrus"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// consolePair is the socket pair `rt run` uses as its own console socket
// when the process has a terminal and no --console-socket was given.
type consolePair struct {
	local, remote *os.File
}

func newConsolePair() (*consolePair, error) {
	local, remote, err := utils.SocketPair("console-local", "console-remote")
	if err != nil {
		return nil, fmt.Errorf("console socket pair: %w", err)
	}
	return &consolePair{local: local, remote: remote}, nil
}

// runConsole copies between rt's terminal and the container's pty.
type runConsole struct {
	master  console.Console
	current console.Console
	wg      sync.WaitGroup
	once    sync.Once
}

// attach receives the pty master and starts copying.
func (p *consolePair) attach() (*runConsole, error) {
	f, err := utils.RecvFd(p.local)
	p.local.Close()
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		return nil, fmt.Errorf("pty master: %w", err)
	}
	// As runc: the output reaches rt's terminal, which translates "\n"
	// itself; the container's pty must not add a "\r" of its own.
	if err := console.ClearONLCR(master.Fd()); err != nil {
		return nil, fmt.Errorf("pty master: clear ONLCR: %w", err)
	}
	rc := &runConsole{master: master}
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		rc.current = cur
		if err := cur.SetRaw(); err != nil {
			return nil, fmt.Errorf("set terminal raw: %w", err)
		}
		rc.resize()
	}
	// The copies end when either side closes (EIO from the pty once its
	// last holder is gone): their errors say nothing more.
	go io.Copy(master, os.Stdin) //nolint:errcheck
	rc.wg.Add(1)
	go func() {
		io.Copy(os.Stdout, master) //nolint:errcheck
		rc.wg.Done()
	}()
	return rc, nil
}

func (rc *runConsole) resize() {
	if rc.current != nil {
		if err := rc.master.ResizeFrom(rc.current); err != nil {
			logrus.Debugf("resize the container's pty: %v", err)
		}
	}
}

// wait waits for the output copy to drain: until the pty closes (when the
// last process holding it exits), or at most stdioDrain, since processes
// the container's process left behind may hold it for ever.
func (rc *runConsole) wait() {
	done := make(chan struct{})
	go func() {
		rc.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stdioDrain):
	}
}

func (rc *runConsole) restore() {
	rc.once.Do(func() {
		if rc.current != nil {
			if err := rc.current.Reset(); err != nil {
				logrus.Warnf("restore the terminal: %v", err)
			}
		}
	})
}
