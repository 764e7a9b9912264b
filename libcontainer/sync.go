package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Messages between rt (the parent) and the Go part of `rt init`, on the
// init socket after the C stage: one type byte, a little-endian u32
// length, then the payload.
const (
	msgConfig    = 'C' // parent -> init: the initConfig JSON
	msgHooks     = 'H' // init -> parent: mounts are done, run prestart/createRuntime hooks
	msgHooksOK   = 'h' // parent -> init: hooks done
	msgReady     = 'R' // init -> parent: ready, waiting for start (or about to exec)
	msgError     = 'E' // either way: an error message, then the sender gives up
	msgUserMaps  = 'U' // C stage -> parent: write my uid/gid maps (no length)
	msgMapsOK    = 'u' // parent -> C stage
	msgPid       = 'P' // C stage -> parent: u32 pid of the init (no length)
	msgCgroupOK  = 'g' // parent -> C stage: placed in the cgroups (no length)
	msgSeccomp   = 'S' // init -> parent: the seccomp notify fd (SCM_RIGHTS)
	msgSeccompOK = 's' // parent -> init: the fd reached the listener
	msgJoin      = 'J' // init -> parent (LateCgroup): place me in the cgroup now
	msgJoined    = 'j' // parent -> init: placed
)

// errInitGone means the init process closed its socket without a word.
var errInitGone = errors.New("init process exited before finishing its setup")

func writeMsg(w io.Writer, typ byte, payload []byte) error {
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.LittleEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

func readMsg(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, errInitGone
		}
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[1:])
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("init message too large (%d bytes)", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, errInitGone
	}
	return hdr[0], payload, nil
}

// writeMsgFd is writeMsg with fd attached (SCM_RIGHTS).
func writeMsgFd(sock *os.File, typ byte, payload []byte, fd int) error {
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.LittleEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[5:], payload)
	return unix.Sendmsg(int(sock.Fd()), buf, unix.UnixRights(fd), nil, 0)
}

// readMsgFd is readMsg that also returns an fd sent with the message
// (-1 when none). The fd arrives with the message's first bytes.
func readMsgFd(sock *os.File) (byte, []byte, int, error) {
	var hdr [5]byte
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
	for err == unix.EINTR {
		n, oobn, _, _, err = unix.Recvmsg(int(sock.Fd()), hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
	}
	if err != nil {
		return 0, nil, -1, err
	}
	if n == 0 {
		return 0, nil, -1, errInitGone
	}
	fd := -1
	if oobn > 0 {
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) > 0 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) > 0 {
				fd = fds[0]
				for _, extra := range fds[1:] {
					unix.Close(extra)
				}
			}
		}
	}
	if n < 5 {
		if _, err := io.ReadFull(sock, hdr[n:]); err != nil {
			closeFd(fd)
			return 0, nil, -1, errInitGone
		}
	}
	size := binary.LittleEndian.Uint32(hdr[1:])
	if size > 64<<20 {
		closeFd(fd)
		return 0, nil, -1, fmt.Errorf("init message too large (%d bytes)", size)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(sock, payload); err != nil {
		closeFd(fd)
		return 0, nil, -1, errInitGone
	}
	return hdr[0], payload, fd, nil
}

func closeFd(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
