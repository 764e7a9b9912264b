// Package initproto is the protocol between rt (the parent), the C stage of
// `rt init` (package nsenter) and the Go part of `rt init`, defined once.
//
// Every message on the init socket (a SOCK_STREAM socketpair) is a frame:
// one type byte, a little-endian u32 payload length, then the payload. File
// descriptors travel as SCM_RIGHTS attached to a frame's first bytes. The
// C stage speaks the same frames; its type bytes are repeated in
// nsenter/proto.h, and a test keeps the two in step.
//
// The conversation, in order (see docs/design.md for the diagram):
//
//	parent -> C     Bootstrap   the records of Bootstrap.Encode
//	C -> parent     UserMaps    write my uid/gid maps       (answer MapsOK)
//	parent -> C     CgroupOK    placed in the cgroups (not with LateCgroup)
//	C -> parent     Pid         u32 pid of the container's init
//	parent -> C     PlanMsg     plan mode (rt exec): the process to run, applied
//	                            in C (see Plan); no Go init follows
//	parent -> init  Config      the init's configuration (JSON)
//	parent -> init  IDMapTrees  idmapped mount trees (fds) + JSON mount indexes
//	init -> parent  Hooks       run prestart/createRuntime hooks (answer HooksOK)
//	init -> parent  Seccomp     the seccomp notify fd (answer SeccompOK)
//	init -> parent  Join        place me in the cgroup now (answer Joined)
//	init -> parent  Ready       set up; waiting for start (create only)
//	parent -> init  StartHooks  (Pid1, after the plan) startContainer hooks
//	parent -> init  SetupPlan   (Pid1 with SetupInC, after the plan and start hooks)
//	                            the set-up, applied by the C init (see Setup)
//	set-up -> init  SetupDone   (Pid1) the set-up child is done: root, pty
//	either way      Error       a message, then the sender gives up
package initproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Type is a message's type byte.
type Type byte

// The message types. Those the C stage uses are in nsenter/proto.h too.
const (
	Bootstrap  Type = 'B' // parent -> C stage: bootstrap records
	UserMaps   Type = 'U' // C stage -> parent: write my uid/gid maps
	MapsOK     Type = 'u' // parent -> C stage: maps written
	CgroupOK   Type = 'g' // parent -> C stage: placed in the cgroups
	Pid        Type = 'P' // C stage -> parent: u32 pid of the container's init
	Config     Type = 'C' // parent -> init: the init's configuration
	IDMapTrees Type = 'M' // parent -> init: idmapped mount trees (fds)
	Hooks      Type = 'H' // init -> parent: run the parent's hooks now
	HooksOK    Type = 'h' // parent -> init: hooks done
	Seccomp    Type = 'S' // init -> parent: the seccomp notify fd
	SeccompOK  Type = 's' // parent -> init: the fd reached the listener
	Join       Type = 'J' // init -> parent: place me in the cgroup now
	Joined     Type = 'j' // parent -> init: placed
	Ready      Type = 'R' // init -> parent: ready, waiting for start
	Error      Type = 'E' // either way: an error message; the sender gives up
	PlanMsg    Type = 'X' // parent -> C stage: the process plan (plan mode)
	// SetupDone (set-up child -> the C init, on their own socket; create
	// with BootstrapData.Pid1): set-up done; fds: the container's root,
	// then the pty slave if process.terminal.
	SetupDone Type = 'D'
	// StartHooks (parent -> the C init, right after PlanMsg, create with
	// BootstrapData.Pid1): the startContainer hooks and the state they get
	// (see nsenter/pid1_hooks.c).
	StartHooks Type = 'K'
	// SetupPlan (parent -> the C init, after PlanMsg and StartHooks,
	// create with BootstrapData.SetupInC): the container's set-up, applied
	// by the init itself (see Setup); no set-up child is forked.
	SetupPlan Type = 'T'
)

// Types lists every message type with its name in nsenter/proto.h.
var Types = map[Type]string{
	Bootstrap: "RT_MSG_BOOTSTRAP", UserMaps: "RT_MSG_USERMAPS", MapsOK: "RT_MSG_MAPSOK",
	CgroupOK: "RT_MSG_CGROUPOK", Pid: "RT_MSG_PID", Config: "RT_MSG_CONFIG",
	IDMapTrees: "RT_MSG_IDMAPTREES", Hooks: "RT_MSG_HOOKS", HooksOK: "RT_MSG_HOOKSOK",
	Seccomp: "RT_MSG_SECCOMP", SeccompOK: "RT_MSG_SECCOMPOK", Join: "RT_MSG_JOIN",
	Joined: "RT_MSG_JOINED", Ready: "RT_MSG_READY", Error: "RT_MSG_ERROR",
	PlanMsg:   "RT_MSG_PLAN",
	SetupDone: "RT_MSG_SETUPDONE", StartHooks: "RT_MSG_STARTHOOKS", SetupPlan: "RT_MSG_SETUPPLAN",
}

func (t Type) String() string {
	if _, ok := Types[t]; ok {
		return string(rune(t))
	}
	return fmt.Sprintf("0x%02x", byte(t))
}

const (
	// HeaderSize is the size of a frame's header.
	HeaderSize = 5
	// MaxPayload bounds a frame's payload (the init's config is the
	// largest: well below this for any sane config).
	MaxPayload = 64 << 20
	// MaxFds bounds the fds that may come with one frame (the kernel's
	// SCM_MAX_FD).
	MaxFds = 253
)

// ErrClosed means the peer closed the socket (or exited) without a word,
// possibly in the middle of a frame.
var ErrClosed = errors.New("init process exited before finishing its setup")

// ErrNoAnswer means the peer sent nothing within the receive timeout
// (Conn.SetRecvTimeout): alive but stuck, in the kernel or not.
var ErrNoAnswer = errors.New("init process sent nothing")

// Msg is one received frame.
type Msg struct {
	Type    Type
	Payload []byte
	// Fds came with the frame (close-on-exec); the receiver owns them.
	Fds []int
}

// Encode returns the frame of t with payload.
func Encode(t Type, payload []byte) []byte {
	buf := make([]byte, HeaderSize+len(payload))
	buf[0] = byte(t)
	binary.LittleEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[HeaderSize:], payload)
	return buf
}

// PeerError is an Error frame's text: the peer's own account of its failure.
type PeerError struct{ Msg string }

func (e *PeerError) Error() string { return e.Msg }

// UnexpectedError is a frame of a type the receiver did not expect.
type UnexpectedError struct {
	Got  Type
	Want []Type
}

func (e *UnexpectedError) Error() string {
	if len(e.Want) == 0 {
		return fmt.Sprintf("init protocol: unexpected message %s", e.Got)
	}
	return fmt.Sprintf("init protocol: unexpected message %s (want %v)", e.Got, e.Want)
}

// Expect checks that m is of type want: an Error frame becomes a
// *PeerError, anything else an *UnexpectedError.
func (m *Msg) Expect(want ...Type) error {
	for _, w := range want {
		if m.Type == w {
			return nil
		}
	}
	if m.Type == Error {
		return &PeerError{Msg: string(m.Payload)}
	}
	return &UnexpectedError{Got: m.Type, Want: want}
}
