package rootfs

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// mountTmpfs mounts a tmpfs on m.Destination. With tmpcopyup the directory's
// previous contents are copied into it. An existing directory's mode is kept
// unless the options set mode=. A read-only tmpfs on /dev is mounted
// read-write: devices go in first, and Finalize makes it read-only.
func mountTmpfs(r *root, m *configs.Mount) error {
	t, err := r.open(m.Destination)
	existed := err == nil
	if !existed {
		t, err = r.target(m.Destination, false)
		if err != nil {
			return err
		}
	}
	defer t.Close()

	var st unix.Stat_t
	if err := unix.Fstat(int(t.Fd()), &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	// An fd opened before the mount still reads the directory underneath.
	var under *os.File
	if m.TmpcopyUp {
		under, err = os.OpenFile(procFd(t), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("tmpcopyup: open %q: %w", m.Destination, err)
		}
		defer under.Close()
	}
	flags := m.Flags
	roLater := flags&unix.MS_RDONLY != 0 && (m.TmpcopyUp || m.Destination == "/dev")
	if roLater {
		flags &^= unix.MS_RDONLY
	}
	source := m.Source
	if source == "" {
		source = "tmpfs"
	}
	if err := mount(source, procFd(t), "tmpfs", flags, m.Data); err != nil {
		return err
	}

	top, err := r.open(m.Destination)
	if err != nil {
		return err
	}
	defer top.Close()
	if existed && !hasOption(m.Data, "mode") {
		if err := unix.Chmod(procFd(top), st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod tmpfs: %w", err)
		}
	}
	if m.TmpcopyUp {
		if err := copyUp(under, top); err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
	}
	if roLater && m.Destination != "/dev" {
		if err := remount(procFd(top), flags|unix.MS_RDONLY, m.ClearedFlags, false); err != nil {
			return fmt.Errorf("remount read-only: %w", err)
		}
	}
	return nil
}

// hasOption reports whether the comma-separated data has key=... .
func hasOption(data, key string) bool {
	for _, o := range strings.Split(data, ",") {
		if strings.HasPrefix(o, key+"=") {
			return true
		}
	}
	return false
}
