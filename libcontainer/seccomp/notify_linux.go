package seccomp

import (
	"encoding/json"
	"fmt"
	"net"

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
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("seccomp listener %q: %w", listenerPath, err)
	}
	defer conn.Close()
	oob := unix.UnixRights(notifyFd)
	n, oobn, err := conn.WriteMsgUnix(msg, oob, nil)
	if err != nil {
		return fmt.Errorf("seccomp listener %q: send fd: %w", listenerPath, err)
	}
	if n != len(msg) || oobn != len(oob) {
		return fmt.Errorf("seccomp listener %q: short write (%d/%d bytes, %d/%d oob)", listenerPath, n, len(msg), oobn, len(oob))
	}
	return nil
}
