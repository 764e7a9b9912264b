package utils

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// StdioProxy stands between the caller's terminal and a foreground
// container process that has no terminal of its own (process.terminal
// false): each of the caller's stdio files that is a terminal is replaced,
// for the process, by a pipe, and rt copies between the two. The process
// then holds no file of the caller's terminal, so it cannot push input
// into it (TIOCSTI), change its settings or make it its controlling
// terminal, whatever its capabilities. runc does the same (it gives a
// foreground process pipes for all three); files that are not terminals
// are passed on as they are.
type StdioProxy struct {
	// Stdin, Stdout, Stderr are what the process gets.
	Stdin, Stdout, Stderr *os.File
	child                 []*os.File // the process's ends, closed once it has them
	out                   sync.WaitGroup
}

// ProxyTerminalStdio returns a proxy for stdin, stdout and stderr; nil
// (and no error) when none of them is a terminal.
func ProxyTerminalStdio(stdin, stdout, stderr *os.File) (*StdioProxy, error) {
	if !IsTerminal(stdin) && !IsTerminal(stdout) && !IsTerminal(stderr) {
		return nil, nil
	}
	p := &StdioProxy{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if IsTerminal(stdin) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("stdin pipe: %w", err)
		}
		p.Stdin = r
		p.child = append(p.child, r)
		go func() {
			// Ends when the process's end is closed (EPIPE) or the
			// terminal hangs up; rt exits without waiting for it.
			io.Copy(w, stdin)
			w.Close()
		}()
	}
	for _, o := range []struct {
		dst  *os.File
		slot **os.File
	}{{stdout, &p.Stdout}, {stderr, &p.Stderr}} {
		if !IsTerminal(o.dst) {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			p.CloseChildEnds()
			return nil, fmt.Errorf("stdout/stderr pipe: %w", err)
		}
		*o.slot = w
		p.child = append(p.child, w)
		p.out.Add(1)
		go func(dst *os.File) {
			defer p.out.Done()
			io.Copy(dst, r)
			r.Close()
		}(o.dst)
	}
	return p, nil
}

// CloseChildEnds closes rt's copies of the process's ends of the pipes:
// call it once the process has them (or will never get them).
func (p *StdioProxy) CloseChildEnds() {
	if p == nil {
		return
	}
	for _, f := range p.child {
		f.Close()
	}
	p.child = nil
}

// Wait waits, after the process has exited, until its output is copied:
// until every writer of the pipes is gone, or at most grace (processes it
// left behind may hold them open).
func (p *StdioProxy) Wait(grace time.Duration) {
	if p == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		p.out.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
}
