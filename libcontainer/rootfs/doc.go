// Package rootfs builds the container's root filesystem. It runs inside the
// container's init process, which is already in the container's new mount
// namespace (and possibly its user namespace). Go threads share the mount
// namespace and the fs root, so every step here applies to the whole process.
//
// The order is the caller's:
//
//	PrepareMounts(cfg) // "/" propagation, rootfs bind, cfg.Mounts, /dev
//	PivotRoot(cfg)     // pivot_root (or MS_MOVE+chroot), rootfsPropagation
//	MountConsoleFd(fd) // optional: the pty slave onto /dev/console
//	Finalize(cfg)      // readonlyPaths, maskedPaths, /dev ro, root ro
//
// Every mount destination is resolved inside the rootfs with
// filepath-securejoin: symlinks and ".." cannot lead outside it. The mount is
// made onto /proc/self/fd/N of an O_PATH handle checked to lie inside the
// rootfs (CVE-2021-30465 class).
package rootfs
