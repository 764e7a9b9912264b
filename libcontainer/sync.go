package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Messages between rt (the parent) and the Go part of `rt init`, on the
// init socket after the C stage: one type byte, a little-endian u32
// length, then the payload.
const (
	msgConfig   = 'C' // parent -> init: the initConfig JSON
	msgHooks    = 'H' // init -> parent: mounts are done, run prestart/createRuntime hooks
	msgHooksOK  = 'h' // parent -> init: hooks done
	msgReady    = 'R' // init -> parent: ready, waiting for start (or about to exec)
	msgError    = 'E' // either way: an error message, then the sender gives up
	msgUserMaps = 'U' // C stage -> parent: write my uid/gid maps (no length)
	msgMapsOK   = 'u' // parent -> C stage
	msgPid      = 'P' // C stage -> parent: u32 pid of the init (no length)
	msgCgroupOK = 'g' // parent -> C stage: placed in the cgroups (no length)
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
