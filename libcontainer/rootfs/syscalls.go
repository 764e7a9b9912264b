package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// mount is mount(2), retried on EINTR, with a MountError on failure.
func mount(source, target, fstype string, flags uintptr, data string) error {
	for {
		err := unix.Mount(source, target, fstype, flags, data)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &MountError{Source: source, Target: target, FsType: fstype, Flags: flags, Data: data, Err: err}
		}
		return nil
	}
}

// procFd is the /proc/self/fd path of f: mounting onto it mounts onto the
// very inode f holds, whatever happened to the path since.
func procFd(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// statfsToMS translates statfs(2) f_flags (ST_*) into MS_* mount flags.
var statfsToMS = []struct{ st, ms uintptr }{
	{unix.ST_RDONLY, unix.MS_RDONLY},
	{unix.ST_NOSUID, unix.MS_NOSUID},
	{unix.ST_NODEV, unix.MS_NODEV},
	{unix.ST_NOEXEC, unix.MS_NOEXEC},
	{unix.ST_NOATIME, unix.MS_NOATIME},
	{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
	{unix.ST_RELATIME, unix.MS_RELATIME},
	{0x2000, unix.MS_NOSYMFOLLOW}, // ST_NOSYMFOLLOW
}

const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// mountFlagsOf returns the per-mount MS_* flags of the mount holding path.
func mountFlagsOf(path string) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	var ms uintptr
	for _, f := range statfsToMS {
		if uintptr(st.Flags)&f.st != 0 {
			ms |= f.ms
		}
	}
	return ms, nil
}

// remount does a MS_REMOUNT (|MS_BIND when bind) of the mount at target
// with flags. When the kernel refuses (EPERM: flags locked by a less
// privileged user namespace), it retries with the mount's current flags
// (nosuid, nodev, noexec, ro, atime) kept, except those in cleared, as runc
// does.
func remount(target string, flags, cleared uintptr, bind bool) error {
	flags |= unix.MS_REMOUNT
	flags &^= unix.MS_REC
	if bind {
		flags |= unix.MS_BIND
	}
	err := mount("", target, "", flags, "")
	if err == nil || !errors.Is(err, unix.EPERM) {
		return err
	}
	cur, serr := mountFlagsOf(target)
	if serr != nil {
		return err
	}
	keep := cur &^ cleared
	if flags&atimeFlags != 0 {
		keep &^= atimeFlags | unix.MS_NODIRATIME
	}
	if keep|flags == flags {
		return err
	}
	return mount("", target, "", flags|keep, "")
}

// inUserNamespace reports whether this process is in a user namespace other
// than the initial one.
func inUserNamespace() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	var a, c, n uint64
	if _, err := fmt.Sscan(string(b), &a, &c, &n); err != nil {
		return true
	}
	return !(a == 0 && c == 0 && n == 4294967295)
}
