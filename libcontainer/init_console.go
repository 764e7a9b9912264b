package libcontainer

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/rootfs"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

// makeConsole creates the pty, sends the master to the console socket and
// mounts the slave on /dev/console; it returns the slave (close-on-exec).
func makeConsole(sockFd int, proc *specs.Process, hasMountNS bool) (int, error) {
	if sockFd < 0 {
		return -1, fmt.Errorf("process.terminal: no console socket")
	}
	sock := os.NewFile(uintptr(sockFd), "console-socket")
	defer sock.Close()
	masterFd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master := os.NewFile(uintptr(masterFd), "/dev/ptmx")
	defer master.Close()
	if err := unix.IoctlSetPointerInt(masterFd, unix.TIOCSPTLCK, 0); err != nil {
		return -1, fmt.Errorf("unlock pty: %w", err)
	}
	// The peer is opened through the master, never by a path that the
	// container could have replaced with a symlink (CVE-2025-52565).
	slaveFd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(masterFd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return -1, fmt.Errorf("open pty peer: %w", errno)
	}
	slave := int(slaveFd)
	ok := false
	defer func() {
		if !ok {
			unix.Close(slave)
		}
	}()
	// As runc (fixStdioPermissions): the process's user owns its terminal,
	// so that it can change its settings; the group is left to devpts
	// (gid=5 with the usual mount options). A uid that cannot be given
	// here (unmapped, read-only devpts) leaves it as it is, as runc.
	if err := unix.Fchown(slave, int(proc.User.UID), -1); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EROFS) {
		return -1, fmt.Errorf("chown pty to process.user.uid %d: %w", proc.User.UID, err)
	}
	if proc.ConsoleSize != nil {
		ws := &unix.Winsize{Row: uint16(proc.ConsoleSize.Height), Col: uint16(proc.ConsoleSize.Width)}
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, ws); err != nil {
			return -1, fmt.Errorf("set console size: %w", err)
		}
	}
	if err := utils.SendConsole(sock, master); err != nil {
		return -1, fmt.Errorf("send pty master to console socket: %w", err)
	}
	if hasMountNS {
		if err := rootfs.MountConsoleFd(slave); err != nil {
			return -1, fmt.Errorf("mount /dev/console: %w", err)
		}
	}
	ok = true
	return slave, nil
}
