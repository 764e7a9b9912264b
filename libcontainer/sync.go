package libcontainer

import (
	"errors"
	"fmt"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// errInitGone means the init process closed its socket without a word.
var errInitGone = initproto.ErrClosed

// initHandlers answer the requests of an `rt init` (its C stage, then its
// Go part). A nil handler means the request is not expected from this
// init, and refuses it.
type initHandlers struct {
	// userMaps writes the C stage's uid/gid maps (it waits in a new user
	// namespace).
	userMaps func() error
	// hooks runs the parent's prestart/createRuntime hooks.
	hooks func() error
	// seccomp passes the seccomp notify fd on to the listener.
	seccomp func(fd int) error
	// join places the process in the container's cgroup now (exec into a
	// paused container).
	join func() error
}

// serve is the parent's one reader of an init's messages, for create and
// exec alike: it answers each request with its handler until a message of
// a type in until has been handled, and returns that message. An Error
// frame from the init is returned as a *initproto.PeerError; a handler's
// error is sent to the init (so that it gives up) and returned.
func (p *initProc) serve(h *initHandlers, until ...initproto.Type) (*initproto.Msg, error) {
	for {
		m, err := p.conn.Recv()
		if err != nil {
			return nil, err
		}
		var (
			handler func() error
			reply   initproto.Type
		)
		switch m.Type {
		case initproto.UserMaps:
			handler, reply = h.userMaps, initproto.MapsOK
		case initproto.Hooks:
			handler, reply = h.hooks, initproto.HooksOK
		case initproto.Join:
			handler, reply = h.join, initproto.Joined
		case initproto.Seccomp:
			reply = initproto.SeccompOK
			if h.seccomp != nil {
				handler = func() error {
					if len(m.Fds) != 1 {
						return fmt.Errorf("init sent %d seccomp notify fds, want 1", len(m.Fds))
					}
					return h.seccomp(m.Fds[0])
				}
			}
		}
		if reply != 0 {
			err := fmt.Errorf("init protocol: request %s not expected here", m.Type)
			if handler != nil {
				err = handler()
			}
			m.CloseFds()
			if err != nil {
				p.conn.SendError(err)
				return nil, err
			}
			if err := p.conn.Send(reply, nil); err != nil {
				return nil, fmt.Errorf("answer init: %w", err)
			}
		} else if err := m.Expect(until...); err != nil {
			m.CloseFds()
			return nil, err
		}
		for _, u := range until {
			if m.Type == u {
				return m, nil
			}
		}
	}
}

// failed explains a failed write to the init: if the init gave up first,
// its own error message is waiting on the socket, and it is the one that
// matters.
func (p *initProc) failed(what string, err error) error {
	if m, rerr := p.conn.Recv(); rerr == nil {
		m.CloseFds()
		if m.Type == initproto.Error {
			return &initproto.PeerError{Msg: string(m.Payload)}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isInitGone reports whether err says the init went away without a word.
func isInitGone(err error) bool { return errors.Is(err, errInitGone) }
