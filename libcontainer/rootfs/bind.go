package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// bindOnlyFlags are the flags of the bind itself; any other flag needs a remount.
const bindOnlyFlags = unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT

// mountBind bind-mounts the host's m.Source onto m.Destination (a file when
// the source is not a directory), then remounts it with m's flags (ro,
// nosuid, ...) when it has any: a bind mount ignores them.
func mountBind(r *root, m *configs.Mount) error {
	t, err := r.target(m.Destination, !isDir(m.Source))
	if err != nil {
		return err
	}
	err = mount(m.Source, procFd(t), "", unix.MS_BIND|(m.Flags&unix.MS_REC), "")
	t.Close()
	if err != nil {
		return err
	}
	if !hasFlagOptions(m) {
		return nil
	}
	return remountBind(r, m.Destination, m.Flags&^bindOnlyFlags, m.ClearedFlags)
}

// hasFlagOptions: m's options name mount flags, set or cleared ("ro",
// "nosuid", but also "rw", "suid", "exec"...). As runc >= 1.2, a bind mount
// with any gets exactly those flags (a remount clears the ones it
// inherited from its source, where the kernel lets it); a plain "bind"
// keeps its source's flags.
func hasFlagOptions(m *configs.Mount) bool {
	return m.Flags&^bindOnlyFlags != 0 || m.ClearedFlags != 0
}

// remountBind remounts the bind mount at dest with flags.
func remountBind(r *root, dest string, flags, cleared uintptr) error {
	t, err := r.open(dest)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := remount(procFd(t), flags, cleared, true); err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	return nil
}

// mountIDMapped attaches the detached, idmapped tree that the runtime's
// parent made of m.Source (m.IDMapFd) at m.Destination, then remounts it
// with m's flags like any bind mount.
func mountIDMapped(r *root, m *configs.Mount) error {
	defer unix.Close(m.IDMapFd)
	var st unix.Stat_t
	if err := unix.Fstat(m.IDMapFd, &st); err != nil {
		return fmt.Errorf("idmapped mount tree: %w", err)
	}
	t, err := r.target(m.Destination, st.Mode&unix.S_IFMT != unix.S_IFDIR)
	if err != nil {
		return err
	}
	err = unix.MoveMount(m.IDMapFd, "", int(t.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	t.Close()
	if err != nil {
		return fmt.Errorf("move_mount idmapped tree: %w", err)
	}
	if !hasFlagOptions(m) {
		return nil
	}
	return remountBind(r, m.Destination, m.Flags&^bindOnlyFlags, m.ClearedFlags)
}
