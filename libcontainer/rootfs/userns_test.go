package rootfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

func init() {
	scenarios["userns"] = func(cfg *configs.Config) error {
		if !inUserNamespace() {
			return errorf("not in a user namespace")
		}
		if err := setupAll(cfg); err != nil {
			return err
		}
		return all(
			expectMount("/", "", "ro"),
			expectMount("/proc", "proc"),
			// sysfs could not be mounted without a network namespace:
			// the host's /sys is bound instead, read-only.
			expectMount("/sys", "sysfs", "ro"),
			expectMount("/sys/fs/cgroup/pids", "cgroup", "ro"),
			// Locked relatime kept on the remount.
			expectMount("/data", "", "ro", "nodev"),
			expectEROFS("/data/x"),
			// Devices are bind mounts of the host's nodes.
			expectCharDev("/dev/null", 1, 3, 0),
			expectMount("/dev/null", ""),
			expectCharDev("/dev/urandom", 1, 9, 0),
			expectEROFS("/proc/sys/kernel/domainname"),
		)
	}
}

// TestUserNamespace runs the setup as root of a new user namespace (mapped
// to host root), where mknod and sysfs are refused and mount flags of host
// mounts are locked.
func TestUserNamespace(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("kernel without user namespaces (CONFIG_USER_NS)")
	}
	rootfs := makeRootfs(t)
	host := t.TempDir()
	writeFile(t, filepath.Join(host, "data/f"), "f\n")
	cfg := &configs.Config{
		Rootfs:   rootfs,
		Readonly: true,
		Mounts: append(defaultMounts(),
			&configs.Mount{Source: filepath.Join(host, "data"), Destination: "/data", Device: "bind", Flags: unix.MS_BIND | unix.MS_RDONLY | unix.MS_NODEV}),
		ReadonlyPaths: []string{"/proc/sys"},
		MaskedPaths:   []string{"/proc/timer_list", "/proc/acpi"},
		Namespaces:    []configs.Namespace{{Type: specs.UserNamespace}, {Type: specs.MountNamespace}, {Type: specs.PIDNamespace}},
	}
	maps := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	attr := &syscall.SysProcAttr{UidMappings: maps, GidMappings: maps}
	out, err := runScenario(t, "userns", cfg, syscall.CLONE_NEWUSER|syscall.CLONE_NEWPID|syscall.CLONE_NEWIPC, attr)
	if err != nil {
		t.Fatalf("userns scenario: %v\n%s", err, out)
	}
}
