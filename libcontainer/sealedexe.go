package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/stagebin"
)

// sealedExe returns an O_PATH fd of rt's own binary on a detached,
// read-only bind mount (open_tree + mount_setattr). rt re-executes itself
// as the container's init through /proc/self/fd/N of this fd, so the
// init's /proc/<pid>/exe is that read-only mount: a container process that
// reopens it for writing gets EROFS and cannot overwrite the host binary
// (CVE-2019-5736). No copy of the binary is made, and the mount vanishes
// with the last fd that refers to it.
//
// Without CAP_SYS_ADMIN (rootless rt) no mount can be made: the binary is
// then copied into a sealed memfd (write, grow and shrink forbidden), which
// is what the init runs.
func sealedExe() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if errors.Is(err, unix.EPERM) && os.Geteuid() != 0 {
		return memfdExe()
	}
	if err != nil {
		return nil, fmt.Errorf("seal /proc/self/exe: open_tree: %w", err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("seal /proc/self/exe: mount_setattr: %w", err)
	}
	return os.NewFile(uintptr(fd), "rt-exe"), nil
}

// memfdExe copies rt's binary into a sealed memfd.
func memfdExe() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("seal /proc/self/exe: %w", err)
	}
	defer src.Close()
	f, err := sealedMemfd("rt", src)
	if err != nil {
		return nil, fmt.Errorf("seal /proc/self/exe: %w", err)
	}
	return f, nil
}

// stageExe returns a sealed memfd holding the rt-stage program embedded in
// rt (libcontainer/stagebin: rt exec's C stage, static against musl; the
// caller checks that rt has it). The memfd is rt's own, made for this
// command: a process of the container that reaches it through
// /proc/<pid>/exe can neither write it (sealed) nor reach rt's binary.
func stageExe() (*os.File, error) {
	f, err := sealedMemfd("rt-stage", bytes.NewReader(stagebin.Binary))
	if err != nil {
		return nil, fmt.Errorf("seal rt-stage: %w", err)
	}
	return f, nil
}

// sealedMemfd copies src into a memfd named name and seals it against
// any change (write, grow, shrink, more seals).
func sealedMemfd(name string, src io.Reader) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}
