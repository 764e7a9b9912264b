package initproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one end of the init socket.
type Conn struct {
	f  *os.File
	rw rawConn
	// timeout is the receive timeout (SetRecvTimeout), for errors.
	timeout time.Duration
}

// rawConn is the socket as the codec sees it; tests feed the decoder
// through a fake that returns data in arbitrary pieces.
type rawConn interface {
	recvmsg(p, oob []byte) (n, oobn, flags int, err error)
	sendmsg(p, oob []byte) (int, error)
}

type sockConn int

func (s sockConn) recvmsg(p, oob []byte) (int, int, int, error) {
	n, oobn, flags, _, err := unix.Recvmsg(int(s), p, oob, unix.MSG_CMSG_CLOEXEC)
	return n, oobn, flags, err
}

func (s sockConn) sendmsg(p, oob []byte) (int, error) {
	return unix.SendmsgN(int(s), p, oob, nil, 0)
}

// NewConn wraps f, a connected SOCK_STREAM unix socket.
func NewConn(f *os.File) *Conn {
	return &Conn{f: f, rw: sockConn(f.Fd())}
}

// SetRecvTimeout bounds each wait of Recv for the peer's next bytes (the
// socket's SO_RCVTIMEO): past it, Recv fails with ErrNoAnswer. 0: no bound.
func (c *Conn) SetRecvTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(int(c.f.Fd()), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("init protocol: set receive timeout: %w", err)
	}
	c.timeout = d
	return nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Send writes one frame, with fds attached to its first bytes. A frame
// the kernel takes in pieces (a signal, a large payload) is completed.
func (c *Conn) Send(t Type, payload []byte, fds ...int) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("send %s: payload of %d bytes exceeds %d", t, len(payload), MaxPayload)
	}
	if len(fds) > MaxFds {
		return fmt.Errorf("send %s: %d fds exceed %d", t, len(fds), MaxFds)
	}
	buf := Encode(t, payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		n, err := c.rw.sendmsg(buf, oob)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			if n <= 0 {
				if errors.Is(err, unix.EAGAIN) {
					if err := c.waitWritable(); err != nil {
						return fmt.Errorf("send %s: %w", t, err)
					}
				}
				continue
			}
			err = nil
		}
		if err != nil {
			if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
				return fmt.Errorf("send %s: %w", t, ErrClosed)
			}
			return fmt.Errorf("send %s: %w", t, err)
		}
		buf = buf[n:]
		oob = nil // the fds went with the first piece
	}
	return nil
}

// waitWritable waits for a non-blocking socket to take more data.
func (c *Conn) waitWritable() error {
	s, ok := c.rw.(sockConn)
	if !ok {
		return nil
	}
	fds := []unix.PollFd{{Fd: int32(s), Events: unix.POLLOUT}}
	for {
		_, err := unix.Poll(fds, -1)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// SendError sends err's text as an Error frame (best effort: the peer may
// be gone already, and the caller is failing anyway).
func (c *Conn) SendError(err error) {
	_ = c.Send(Error, []byte(err.Error()))
}

// Recv reads one frame, however the kernel splits it, with every fd that
// came with it. A peer that closes the socket, even mid-frame, is
// ErrClosed; fds received with an incomplete or refused frame are closed.
func (c *Conn) Recv() (*Msg, error) {
	m := &Msg{}
	var hdr [HeaderSize]byte
	if err := c.readFull(hdr[:], m); err != nil {
		m.CloseFds()
		return nil, err
	}
	m.Type = Type(hdr[0])
	size := binary.LittleEndian.Uint32(hdr[1:])
	if size > MaxPayload {
		m.CloseFds()
		return nil, fmt.Errorf("init protocol: message %s of %d bytes exceeds %d", m.Type, size, MaxPayload)
	}
	// Grow the buffer as data comes rather than trusting the header with
	// a large allocation up front.
	m.Payload = make([]byte, 0, min(int(size), 64<<10))
	for len(m.Payload) < int(size) {
		n := min(int(size)-len(m.Payload), max(len(m.Payload), 64<<10))
		m.Payload = append(m.Payload, make([]byte, n)...)
		if err := c.readFull(m.Payload[len(m.Payload)-n:], m); err != nil {
			m.CloseFds()
			return nil, err
		}
	}
	return m, nil
}

// readFull fills p from the socket, collecting fds into m.
func (c *Conn) readFull(p []byte, m *Msg) error {
	oob := make([]byte, unix.CmsgSpace(4*MaxFds))
	for got := 0; got < len(p); {
		n, oobn, flags, err := c.rw.recvmsg(p[got:], oob)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ECONNRESET) {
			return ErrClosed
		}
		if errors.Is(err, unix.EAGAIN) {
			// SO_RCVTIMEO (SetRecvTimeout) ran out.
			return fmt.Errorf("%w for %v", ErrNoAnswer, c.timeout)
		}
		if err != nil {
			return fmt.Errorf("init protocol: receive: %w", err)
		}
		if oobn > 0 {
			fds, perr := parseRights(oob[:oobn])
			m.Fds = append(m.Fds, fds...)
			if perr != nil {
				return perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return fmt.Errorf("init protocol: more than %d fds with one message", MaxFds)
		}
		if n == 0 {
			return ErrClosed
		}
		got += n
	}
	return nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("init protocol: control message: %w", err)
	}
	var out []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return out, fmt.Errorf("init protocol: control message: %w", err)
		}
		out = append(out, fds...)
	}
	return out, nil
}

// CloseFds closes the fds that came with m.
func (m *Msg) CloseFds() {
	for _, fd := range m.Fds {
		unix.Close(fd)
	}
	m.Fds = nil
}

// Request sends a frame of type t (with fds) and reads the answer, which
// must be of type reply: the init's typed calls ("run the hooks", "here is
// my seccomp fd", "place me in the cgroup") are all this one exchange.
func (c *Conn) Request(t, reply Type, payload []byte, fds ...int) (*Msg, error) {
	if err := c.Send(t, payload, fds...); err != nil {
		return nil, err
	}
	return c.Expect(reply)
}

// Expect reads a frame that must be of type want (see Msg.Expect). Fds of
// a refused frame are closed.
func (c *Conn) Expect(want Type) (*Msg, error) {
	m, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if err := m.Expect(want); err != nil {
		m.CloseFds()
		return nil, err
	}
	return m, nil
}
