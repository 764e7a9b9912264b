package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NotifyFdName is the name of the seccomp notify fd in
// ContainerProcessState.Fds, as runc sends it.
const NotifyFdName = "seccompFd"

// SendNotifyFd connects to the unix socket listenerPath (on the host, so it
// is called by the runtime side, not by the init inside the container) and
// sends, in one message, the ContainerProcessState JSON (ociVersion, fds
// ["seccompFd"], pid, metadata = listenerMetadata, state) together with
// notifyFd by SCM_RIGHTS. It does not close notifyFd.
func SendNotifyFd(listenerPath string, notifyFd int, pid int, metadata string, state specs.State) error {
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{NotifyFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return fmt.Errorf("seccomp listener %q: encode state: %w", listenerPath, err)
	}
	// A raw socket rather than package net: rt keeps net out of its binary.
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("seccomp listener %q: socket: %w", listenerPath, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath}); err != nil {
		return fmt.Errorf("seccomp listener %q: connect: %w", listenerPath, err)
	}
	oob := unix.UnixRights(notifyFd)
	n, err := unix.SendmsgN(sock, msg, oob, nil, 0)
	if err != nil {
		return fmt.Errorf("seccomp listener %q: send fd: %w", listenerPath, err)
	}
	if n != len(msg) {
		return fmt.Errorf("seccomp listener %q: short write (%d/%d bytes)", listenerPath, n, len(msg))
	}
	return nil
}
