package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

func u32(v uint32) *uint32            { return &v }
func mode(m os.FileMode) *os.FileMode { return &m }

// DefaultDevices are the nodes every container's /dev gets (runc's list).
var DefaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
}

// needsSetupDev: /dev is populated unless it is a bind mount from the host.
func needsSetupDev(cfg *configs.Config) bool {
	for _, m := range cfg.Mounts {
		if m.Destination == "/dev" && m.IsBind() {
			return false
		}
	}
	return true
}

// createDevices creates DefaultDevices and cfg.Devices (which win on the
// same path): mknod, or, in a user namespace where mknod is not allowed, a
// bind mount of the host's node at the same path.
func createDevices(r *root, cfg *configs.Config) error {
	devs := mergedDevices(cfg)
	bind := inUserNamespace()
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devs {
		if err := createDevice(r, d, bind); err != nil {
			return fmt.Errorf("device %q: %w", d.Path, err)
		}
	}
	return nil
}

// mergedDevices is DefaultDevices with cfg.Devices, which win on the same
// path, after them.
func mergedDevices(cfg *configs.Config) []specs.LinuxDevice {
	devs := append([]specs.LinuxDevice{}, DefaultDevices...)
	for _, d := range cfg.Devices {
		replaced := false
		for i := range devs {
			if path.Clean(devs[i].Path) == path.Clean(d.Path) {
				devs[i], replaced = d, true
			}
		}
		if !replaced {
			devs = append(devs, d)
		}
	}
	return devs
}

// deviceType maps the spec's device type to the S_IFMT bits.
func deviceType(t string) (uint32, error) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("type %q: %w", t, ErrBadDevice)
}

// createDevice makes one device node inside the root. An existing file of
// that name is left alone (as runc does).
func createDevice(r *root, d specs.LinuxDevice, bind bool) error {
	if !path.IsAbs(d.Path) || path.Clean(d.Path) == "/" {
		return fmt.Errorf("path %q: %w", d.Path, ErrBadDevice)
	}
	typ, err := deviceType(d.Type)
	if err != nil {
		return err
	}
	if bind {
		return bindDevice(r, d)
	}
	parent, name, err := r.parent(d.Path)
	if err != nil {
		return err
	}
	defer parent.Close()
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	dev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if typ == unix.S_IFIFO {
		dev = 0
	}
	pfd := int(parent.Fd())
	err = unix.Mknodat(pfd, name, typ|perm, dev)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if errors.Is(err, unix.EPERM) {
		return bindDevice(r, d)
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(pfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// bindDevice bind-mounts the host's node d.Path onto an empty file at the
// same path in the root.
func bindDevice(r *root, d specs.LinuxDevice) error {
	t, err := r.target(d.Path, true)
	if err != nil {
		return err
	}
	defer t.Close()
	return mount(d.Path, procFd(t), "bind", unix.MS_BIND, "")
}

// setupPtmx replaces /dev/ptmx by a symlink to pts/ptmx, so that the
// container's devpts instance is used.
func setupPtmx(r *root) error {
	dev, err := r.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", int(dev.Fd()), "ptmx"); err != nil {
		return fmt.Errorf("symlink /dev/ptmx: %w", err)
	}
	return nil
}

// devLinks are the /dev symlinks (target, name): /dev/fd, /dev/std{in,out,
// err} and, when the host has /proc/kcore, /dev/core.
func devLinks() [][2]string {
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	return links
}

// setupDevSymlinks creates /dev/fd, /dev/std{in,out,err} and, when the host
// has /proc/kcore, /dev/core. Existing entries are kept.
func setupDevSymlinks(r *root) error {
	links := devLinks()
	dev, err := r.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	for _, l := range links {
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}
