package rootfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// The attack of CVE-2025-52881 on the mounts made after pivot_root: with a
// mount over the set-up's /proc/<pid>/fd (there through a shared mount),
// every /proc/self/fd/N path names what another process's fd N is. Here
// that process holds a decoy (a file, then a directory) inside the root on
// all its fds 3..62, and its fd directory is mounted over ours before
// Finalize: a mount made onto procFd paths would bind the decoy onto
// itself and leave the masked file readable and the read-only path
// writable. By fd (open_tree, move_mount, mount_setattr) they land where
// they must.
func init() {
	scenarios["fd-redirect"] = func(cfg *configs.Config) error {
		if err := PrepareMounts(cfg); err != nil {
			return fmt.Errorf("PrepareMounts: %w", err)
		}
		if err := PivotRoot(cfg); err != nil {
			return fmt.Errorf("PivotRoot: %w", err)
		}
		mask := func() error { return Finalize(&configs.Config{MaskedPaths: []string{"/secret"}}) }
		if err := redirectFds("/decoy", mask); err != nil {
			return err
		}
		if b, err := os.ReadFile("/secret"); err != nil || len(b) != 0 {
			return fmt.Errorf("masked /secret reads %q (%v): the mask went elsewhere", b, err)
		}
		ro := func() error { return Finalize(&configs.Config{ReadonlyPaths: []string{"/rodir"}}) }
		if err := redirectFds("/decoydir", ro); err != nil {
			return err
		}
		if err := os.WriteFile("/rodir/new", nil, 0o644); !errors.Is(err, unix.EROFS) {
			return fmt.Errorf("read-only /rodir: writing a file: %v, want EROFS: the read-only bind went elsewhere", err)
		}
		if err := os.WriteFile("/decoydir/new", nil, 0o644); err != nil {
			return fmt.Errorf("the decoy directory was made read-only: %w", err)
		}
		return nil
	}
}

// redirectFds runs f while /proc/<self>/fd is the fd directory of a process
// whose fds 3..62 all hold decoy.
func redirectFds(decoy string, f func() error) error {
	files := make([]*os.File, 60)
	for i := range files {
		d, err := os.Open(decoy)
		if err != nil {
			return err
		}
		files[i] = d
	}
	helper := exec.Command("/bin/busybox", "sleep", "100")
	helper.ExtraFiles = files
	err := helper.Start()
	for _, d := range files {
		d.Close() // ours: Finalize's fds are then the low numbers again
	}
	if err != nil {
		return fmt.Errorf("start the helper: %w", err)
	}
	defer func() { helper.Process.Kill(); helper.Wait() }()
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd"
	if err := unix.Mount("/proc/"+strconv.Itoa(helper.Process.Pid)+"/fd", self, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mount the helper's fd directory over %s: %w", self, err)
	}
	err = f()
	if uerr := unix.Unmount(self, unix.MNT_DETACH); uerr != nil && err == nil {
		err = fmt.Errorf("unmount %s: %w", self, uerr)
	}
	if err != nil {
		return fmt.Errorf("with %s redirected to %s: %w", self, decoy, err)
	}
	return nil
}

func TestFinalizeByFdUnderProcRedirect(t *testing.T) {
	requireRoot(t)
	rootfs := makeRootfs(t)
	writeFile(t, filepath.Join(rootfs, "secret"), "SECRET\n")
	writeFile(t, filepath.Join(rootfs, "decoy"), "decoy\n")
	for _, d := range []string{"rodir", "decoydir"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &configs.Config{
		Rootfs:     rootfs,
		Mounts:     defaultMounts(),
		Namespaces: []configs.Namespace{{Type: specs.MountNamespace}},
	}
	mustRun(t, "fd-redirect", cfg)
}
