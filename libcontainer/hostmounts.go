package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// A container without a mount namespace of its own makes its mounts (proc,
// dev, sys, the config's mounts) in the caller's mount namespace, under the
// rootfs. As runc does, the rootfs is first bind-mounted onto itself, so
// that all of them hang below that one mount: `umount -R rootfs` removes
// them, and so does delete, which detaches it. The bind is made by the
// parent, after recording in the state dir what was mounted at the rootfs
// before (its mount id), so that a delete after a crash at any point
// detaches exactly what rt put on top, and never a mount of the caller's.
const rootfsBindFile = "rootfs-bind"

// needsRootfsBind reports whether the container's mounts land in the
// caller's mount namespace.
func needsRootfsBind(cfg *configs.Config) bool {
	return cfg.NamespaceOf(specs.MountNamespace) == nil
}

func mountID(path string) (uint64, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &st); err != nil {
		return 0, fmt.Errorf("statx %s: %w", path, err)
	}
	if st.Mask&unix.STATX_MNT_ID == 0 {
		return 0, fmt.Errorf("statx %s: kernel reports no mount id", path)
	}
	return st.Mnt_id, nil
}

// bindRootfs records the mount at rootfs in stateDir, then bind-mounts
// rootfs onto itself (recursively: mounts already below it stay visible).
func bindRootfs(stateDir, rootfs string) error {
	id, err := mountID(rootfs)
	if err != nil {
		return fmt.Errorf("bind rootfs onto itself: %w", err)
	}
	rec := strconv.FormatUint(id, 10) + "\n" + rootfs + "\n"
	if err := os.WriteFile(filepath.Join(stateDir, rootfsBindFile), []byte(rec), 0o600); err != nil {
		return fmt.Errorf("bind rootfs onto itself: record: %w", err)
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s onto itself: %w", rootfs, err)
	}
	return nil
}

// unbindRootfs detaches what bindRootfs mounted at the rootfs (with every
// mount the container made below it), if stateDir records such a bind.
func unbindRootfs(stateDir string) error {
	data, err := os.ReadFile(filepath.Join(stateDir, rootfsBindFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unmount rootfs: %w", err)
	}
	idStr, rootfs, ok := strings.Cut(strings.TrimSpace(string(data)), "\n")
	under, perr := strconv.ParseUint(idStr, 10, 64)
	if !ok || perr != nil || rootfs == "" {
		return fmt.Errorf("unmount rootfs: malformed %s", rootfsBindFile)
	}
	// Bounded: each round removes one mount stacked on the rootfs by rt.
	for i := 0; i < 16; i++ {
		id, err := mountID(rootfs)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil // the rootfs is gone: so are its mounts
			}
			return fmt.Errorf("unmount rootfs: %w", err)
		}
		if id == under {
			return nil
		}
		if err := unix.Unmount(rootfs, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount rootfs %s: %w", rootfs, err)
		}
	}
	return fmt.Errorf("unmount rootfs %s: still mounted over after 16 unmounts", rootfs)
}
