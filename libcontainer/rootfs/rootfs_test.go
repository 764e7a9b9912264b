package rootfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

const nsn = unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV

// defaultMounts are the mounts of `runc spec`, as ConvertMount makes them.
func defaultMounts() []*configs.Mount {
	return []*configs.Mount{
		{Source: "proc", Destination: "/proc", Device: "proc", Flags: nsn},
		{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: nsn, Data: "mode=1777,size=65536k"},
		{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue", Flags: nsn},
		{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: nsn | unix.MS_RDONLY},
		{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup", Flags: nsn | unix.MS_RELATIME | unix.MS_RDONLY},
	}
}

func init() {
	scenarios["full"] = func(cfg *configs.Config) error {
		if err := setupAll(cfg); err != nil {
			return err
		}
		cwd, _ := os.Getwd()
		return all(
			func() error {
				if cwd != "/" {
					return fmt.Errorf("cwd %q", cwd)
				}
				return nil
			}(),
			expectMount("/", "", "ro"),
			expectEROFS("/newfile"),
			expectMount("/proc", "proc", "nosuid", "nodev", "noexec"),
			expectMount("/dev", "tmpfs", "nosuid"),
			expectMount("/dev/pts", "devpts", "nosuid", "noexec"),
			expectMount("/dev/shm", "tmpfs", "nosuid", "nodev", "noexec"),
			expectMount("/dev/mqueue", "mqueue"),
			expectMount("/sys", "sysfs", "ro"),
			expectMount("/sys/fs/cgroup", "tmpfs", "ro"),
			expectMount("/sys/fs/cgroup/memory", "cgroup", "ro"),
			expectMount("/sys/fs/cgroup/unified", "cgroup2", "ro"),
			expectMount("/data", "", "ro", "nodev"),
			expectEROFS("/data/new"),
			expectMount("/etc/hostfile", ""),
			expectMount("/tmp", "tmpfs"),
			expectCharDev("/dev/null", 1, 3, 0o666),
			expectCharDev("/dev/zero", 1, 5, 0o666),
			expectCharDev("/dev/full", 1, 7, 0o666),
			expectCharDev("/dev/random", 1, 8, 0o666),
			expectCharDev("/dev/urandom", 1, 9, 0o666),
			expectCharDev("/dev/tty", 5, 0, 0o666),
			expectCharDev("/dev/fuse", 10, 229, 0o600),
			expectLink("/dev/ptmx", "pts/ptmx"),
			expectLink("/dev/fd", "/proc/self/fd"),
			expectLink("/dev/stdin", "/proc/self/fd/0"),
			expectLink("/dev/stdout", "/proc/self/fd/1"),
			expectLink("/dev/stderr", "/proc/self/fd/2"),
			expectEROFS("/proc/sys/kernel/domainname"),
			expectMount("/proc/irq", "proc", "ro"),
			func() error {
				b, err := os.ReadFile("/etc/hostfile")
				if err != nil || string(b) != "from host\n" {
					return fmt.Errorf("/etc/hostfile: %q, %v", b, err)
				}
				if b, err := os.ReadFile("/proc/timer_list"); err != nil || len(b) != 0 {
					return fmt.Errorf("masked /proc/timer_list: %d bytes, %v", len(b), err)
				}
				if ents, err := os.ReadDir("/proc/acpi"); err != nil || len(ents) != 0 {
					return fmt.Errorf("masked /proc/acpi: %v, %v", ents, err)
				}
				if err := expectMount("/proc/acpi", "tmpfs", "ro"); err != nil {
					return err
				}
				// Nothing of the host's tree is left.
				mi, _ := os.ReadFile("/proc/self/mountinfo")
				if strings.Contains(string(mi), " /work") {
					return fmt.Errorf("host mounts visible:\n%s", mi)
				}
				out, err := exec.Command("/bin/sh", "-c", "cat /data/hello && ls /dev/pts").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "hello\n") {
					return fmt.Errorf("busybox in rootfs: %q, %v", out, err)
				}
				return nil
			}(),
		)
	}
}

func TestFullSetup(t *testing.T) {
	requireRoot(t)
	rootfs := makeRootfs(t)
	host := t.TempDir()
	writeFile(t, filepath.Join(host, "data/hello"), "hello\n")
	writeFile(t, filepath.Join(host, "hostfile"), "from host\n")
	mounts := append(defaultMounts(),
		&configs.Mount{Source: filepath.Join(host, "data"), Destination: "/data", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NODEV},
		&configs.Mount{Source: filepath.Join(host, "hostfile"), Destination: "/etc/hostfile", Device: "bind", Flags: unix.MS_BIND},
		&configs.Mount{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs", PropagationFlags: []uintptr{unix.MS_PRIVATE}, RecAttrSet: unix.MOUNT_ATTR_NOSUID},
	)
	fm := os.FileMode(0o600)
	cfg := &configs.Config{
		Rootfs:        rootfs,
		Readonly:      true,
		Mounts:        mounts,
		Devices:       []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &fm}},
		MaskedPaths:   []string{"/proc/kcore", "/proc/timer_list", "/proc/acpi", "/proc/does-not-exist"},
		ReadonlyPaths: []string{"/proc/sys", "/proc/irq", "/proc/sysrq-trigger", "/proc/nope"},
		Namespaces:    []configs.Namespace{{Type: specs.MountNamespace}},
	}
	mustRun(t, "full", cfg)
	// The files the mounts needed were created inside the rootfs.
	if _, err := os.Stat(filepath.Join(rootfs, "etc/hostfile")); err != nil {
		t.Errorf("bind target file not created in rootfs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "data")); err != nil {
		t.Errorf("bind target dir not created in rootfs: %v", err)
	}
}

func init() {
	scenarios["prepare-only"] = func(cfg *configs.Config) error {
		return PrepareMounts(cfg)
	}
}

// TestSymlinkEscape: destinations through symlinks that point outside the
// rootfs, or with "..", must land inside the rootfs.
func TestSymlinkEscape(t *testing.T) {
	requireRoot(t)
	rootfs := makeRootfs(t)
	outside := t.TempDir()
	name := filepath.Base(outside)
	// /etclink -> /etc (host /etc if followed naively)
	if err := os.Symlink("/etc", filepath.Join(rootfs, "etclink")); err != nil {
		t.Fatal(err)
	}
	// /up -> ../../../../tmp: naively, the host's /tmp.
	if err := os.Symlink(strings.Repeat("../", 12)+"tmp", filepath.Join(rootfs, "up")); err != nil {
		t.Fatal(err)
	}
	cfg := &configs.Config{Namespaces: mountNS,
		Rootfs: rootfs,
		Mounts: []*configs.Mount{
			{Source: "tmpfs", Destination: "/etclink/rt-escape-" + name, Device: "tmpfs"},
			{Source: "tmpfs", Destination: "/up/rt-escape-up-" + name, Device: "tmpfs"},
			{Source: "tmpfs", Destination: "/../../../tmp/rt-escape-dotdot-" + name, Device: "tmpfs"},
			{Source: filepath.Join(outside, "f"), Destination: "/etclink/rt-bindfile-" + name, Device: "bind", Flags: unix.MS_BIND},
		},
	}
	writeFile(t, filepath.Join(outside, "f"), "x")
	mustRun(t, "prepare-only", cfg)
	for _, p := range []string{"/etc/rt-escape-" + name, "/etc/rt-bindfile-" + name, "/tmp/rt-escape-up-" + name, "/tmp/rt-escape-dotdot-" + name} {
		if _, err := os.Lstat(p); err == nil {
			os.RemoveAll(p)
			t.Errorf("%s was created outside the rootfs", p)
		}
	}
	for _, p := range []string{"etc/rt-escape-" + name, "etc/rt-bindfile-" + name, "tmp/rt-escape-up-" + name, "tmp/rt-escape-dotdot-" + name} {
		if _, err := os.Lstat(filepath.Join(rootfs, p)); err != nil {
			t.Errorf("%s not created inside the rootfs: %v", p, err)
		}
	}

	// A symlink to a directory that exists only outside: as runc, the
	// link is resolved inside the rootfs and the directory made there;
	// nothing is created outside.
	if err := os.Symlink(strings.Repeat("../", 12)+strings.TrimPrefix(outside, "/"), filepath.Join(rootfs, "out")); err != nil {
		t.Fatal(err)
	}
	cfg.Mounts = []*configs.Mount{{Source: "tmpfs", Destination: "/out/escaped", Device: "tmpfs"}}
	if _, err := runScenario(t, "prepare-only", cfg, 0, nil); err != nil {
		t.Errorf("mount through a dangling (in rootfs) symlink: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(outside, "escaped")); err == nil {
		t.Errorf("%s/escaped created outside the rootfs", outside)
	}
	if _, err := os.Lstat(filepath.Join(rootfs, outside, "escaped")); err != nil {
		t.Errorf("%s/escaped not created inside the rootfs: %v", outside, err)
	}
}

// TestProcSymlinkRefused: a /proc that is a symlink must not get procfs
// (CVE-2019-19921, CVE-2023-27561); same for /sys.
func TestProcSymlinkRefused(t *testing.T) {
	requireRoot(t)
	for _, dir := range []string{"proc", "sys"} {
		rootfs := makeRootfs(t)
		os.Remove(filepath.Join(rootfs, dir))
		if err := os.Symlink("/tmp", filepath.Join(rootfs, dir)); err != nil {
			t.Fatal(err)
		}
		dev := map[string]string{"proc": "proc", "sys": "sysfs"}[dir]
		cfg := &configs.Config{Namespaces: mountNS, Rootfs: rootfs, Mounts: []*configs.Mount{{Source: dev, Destination: "/" + dir, Device: dev}}}
		out, err := runScenario(t, "prepare-only", cfg, 0, nil)
		if err == nil || !strings.Contains(out, ErrNotDirectory.Error()) {
			t.Errorf("/%s symlink: err %v, output %q; want %q", dir, err, out, ErrNotDirectory)
		}
	}
	// Mounting something else on /proc, or inside /proc, is refused too.
	rootfs := makeRootfs(t)
	for _, m := range []*configs.Mount{
		{Source: "tmpfs", Destination: "/proc", Device: "tmpfs"},
		{Source: "/etc", Destination: "/proc/sys", Device: "bind", Flags: unix.MS_BIND},
	} {
		cfg := &configs.Config{Namespaces: mountNS, Rootfs: rootfs, Mounts: []*configs.Mount{m}}
		out, err := runScenario(t, "prepare-only", cfg, 0, nil)
		if err == nil || !strings.Contains(out, ErrProcMount.Error()) {
			t.Errorf("%+v: err %v, output %q", m, err, out)
		}
	}
}

func init() {
	scenarios["tmpcopyup"] = func(cfg *configs.Config) error {
		if err := setupAll(cfg); err != nil {
			return err
		}
		b, err := os.ReadFile("/etc/conf.d/app.conf")
		if err != nil || string(b) != "setting=1\n" {
			return fmt.Errorf("copied file: %q %v", b, err)
		}
		var errs []error
		errs = append(errs, expectMount("/etc", "tmpfs", "ro"), expectLink("/etc/link", "conf.d/app.conf"),
			// A read-only /dev tmpfs: devices created first, then ro.
			expectMount("/dev", "tmpfs", "ro"), expectCharDev("/dev/null", 1, 3, 0o666), expectEROFS("/dev/newfile"))
		if fi, err := os.Stat("/etc/conf.d/secret"); err != nil || fi.Mode().Perm() != 0o600 {
			errs = append(errs, fmt.Errorf("secret mode: %v %v", fi, err))
		}
		if fi, err := os.Stat("/etc"); err != nil || fi.Mode().Perm() != 0o751 {
			errs = append(errs, fmt.Errorf("/etc mode kept: %v %v", fi, err))
		}
		return all(errs...)
	}
}

func TestTmpcopyup(t *testing.T) {
	requireRoot(t)
	rootfs := makeRootfs(t)
	writeFile(t, filepath.Join(rootfs, "etc/conf.d/app.conf"), "setting=1\n")
	writeFile(t, filepath.Join(rootfs, "etc/conf.d/secret"), "s\n")
	os.Chmod(filepath.Join(rootfs, "etc/conf.d/secret"), 0o600)
	os.Chmod(filepath.Join(rootfs, "etc"), 0o751)
	os.Symlink("conf.d/app.conf", filepath.Join(rootfs, "etc/link"))
	cfg := &configs.Config{Namespaces: mountNS, Rootfs: rootfs, Mounts: []*configs.Mount{
		{Source: "proc", Destination: "/proc", Device: "proc"},
		{Source: "tmpfs", Destination: "/etc", Device: "tmpfs", Flags: unix.MS_RDONLY, TmpcopyUp: true},
		{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_RDONLY | unix.MS_NOSUID, Data: "mode=755"},
	}}
	mustRun(t, "tmpcopyup", cfg)
}

func init() {
	scenarios["propagation"] = func(cfg *configs.Config) error {
		if err := setupAll(cfg); err != nil {
			return err
		}
		m, err := mountAt("/")
		if err != nil {
			return err
		}
		want := os.Getenv("WANT_PROPAGATION")
		os.MkdirAll("/mnt/a", 0o755)
		os.MkdirAll("/mnt/b", 0o755)
		bindErr := unix.Mount("/", "/mnt/b", "", unix.MS_BIND, "")
		switch want {
		case "unbindable":
			if !strings.Contains(m.Optional, "unbindable") || !errors.Is(bindErr, unix.EINVAL) {
				return fmt.Errorf("unbindable: optional %q, bind / err %v", m.Optional, bindErr)
			}
			return nil
		case "shared":
			if !strings.Contains(m.Optional, "shared:") {
				return fmt.Errorf("shared: optional %q", m.Optional)
			}
		case "private":
			if m.Optional != "" {
				return fmt.Errorf("private: optional %q", m.Optional)
			}
		}
		if bindErr != nil {
			return fmt.Errorf("bind /: %v", bindErr)
		}
		if err := unix.Mount("tmpfs", "/mnt/a", "tmpfs", 0, ""); err != nil {
			return err
		}
		_, err = os.Stat("/mnt/b/mnt/a")
		var st1, st2 unix.Statfs_t
		unix.Statfs("/mnt/a", &st1)
		unix.Statfs("/mnt/b/mnt/a", &st2)
		propagated := err == nil && st2.Type == unix.TMPFS_MAGIC
		if propagated != (want == "shared") {
			return fmt.Errorf("%s: mount under / propagated to a bind of / = %v", want, propagated)
		}
		return nil
	}
}

// TestRootfsPropagation mirrors runtime-tools' linux_rootfs_propagation.
func TestRootfsPropagation(t *testing.T) {
	requireRoot(t)
	for name, flag := range map[string]uintptr{
		"shared":     unix.MS_SHARED | unix.MS_REC,
		"private":    unix.MS_PRIVATE | unix.MS_REC,
		"unbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	} {
		t.Run(name, func(t *testing.T) {
			rootfs := makeRootfs(t)
			cfg := &configs.Config{Namespaces: mountNS, Rootfs: rootfs, RootPropagation: flag, Mounts: []*configs.Mount{
				{Source: "proc", Destination: "/proc", Device: "proc"},
			}}
			t.Setenv("WANT_PROPAGATION", name)
			mustRun(t, "propagation", cfg)
		})
	}
}

func init() {
	scenarios["nopivot"] = func(cfg *configs.Config) error {
		if err := setupAll(cfg); err != nil {
			return err
		}
		if _, err := os.Stat("/bin/busybox"); err != nil {
			return err
		}
		if _, err := os.Stat("/work"); err == nil {
			return fmt.Errorf("host /work visible after chroot")
		}
		return expectMount("/proc", "proc")
	}
}

func TestNoPivot(t *testing.T) {
	requireRoot(t)
	cfg := &configs.Config{Namespaces: mountNS, Rootfs: makeRootfs(t), NoPivot: true, Mounts: []*configs.Mount{
		{Source: "proc", Destination: "/proc", Device: "proc"},
	}}
	mustRun(t, "nopivot", cfg)
}

func init() {
	scenarios["console"] = func(cfg *configs.Config) error {
		if err := PrepareMounts(cfg); err != nil {
			return err
		}
		if err := PivotRoot(cfg); err != nil {
			return err
		}
		master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open ptmx: %w", err)
		}
		if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlockpt: %w", err)
		}
		slave, err := unix.IoctlRetInt(master, unix.TIOCGPTPEER)
		if err != nil {
			// TIOCGPTPEER takes open flags as its argument.
			return fmt.Errorf("TIOCGPTPEER: %w", err)
		}
		// Not a pty: refused.
		nul, _ := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err := MountConsoleFd(nul); !errors.Is(err, ErrNotPty) {
			return fmt.Errorf("MountConsoleFd(/dev/null) = %v, want ErrNotPty", err)
		}
		if err := MountConsoleFd(slave); err != nil {
			return err
		}
		if err := Finalize(cfg); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat("/dev/console", &st); err != nil {
			return err
		}
		if unix.Major(st.Rdev) != 136 {
			return fmt.Errorf("/dev/console rdev major %d, want 136", unix.Major(st.Rdev))
		}
		return nil
	}
}

func TestMountConsole(t *testing.T) {
	requireRoot(t)
	cfg := &configs.Config{Namespaces: mountNS, Rootfs: makeRootfs(t), Mounts: defaultMounts()[:3]}
	mustRun(t, "console", cfg)
}

func init() {
	scenarios["devnull-symlink"] = func(cfg *configs.Config) error {
		err := setupAll(cfg)
		if !errors.Is(err, ErrNotDevNull) {
			return fmt.Errorf("setup with a symlinked /dev/null: %v, want ErrNotDevNull", err)
		}
		return nil
	}
}

// TestMaskDevNullSymlink: a /dev/null replaced by a symlink to a procfs file
// must not be bind-mounted over masked paths (CVE-2025-31133).
func TestMaskDevNullSymlink(t *testing.T) {
	requireRoot(t)
	rootfs := makeRootfs(t)
	if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(rootfs, "dev/null")); err != nil {
		t.Fatal(err)
	}
	cfg := &configs.Config{Namespaces: mountNS, Rootfs: rootfs,
		Mounts:      []*configs.Mount{{Source: "proc", Destination: "/proc", Device: "proc"}},
		MaskedPaths: []string{"/proc/timer_list"},
	}
	mustRun(t, "devnull-symlink", cfg)
}

// TestIDMapWithoutTree: an idmapped mount needs the tree the runtime's
// parent prepares; without one it is refused, never mounted un-mapped.
func TestIDMapWithoutTree(t *testing.T) {
	requireRoot(t)
	cfg := &configs.Config{Namespaces: mountNS, Rootfs: makeRootfs(t), Mounts: []*configs.Mount{
		{Source: "/tmp", Destination: "/mnt", Device: "bind", Flags: unix.MS_BIND, IDMap: true,
			UIDMappings: []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}},
	}}
	out, err := runScenario(t, "prepare-only", cfg, 0, nil)
	if err == nil || !strings.Contains(out, ErrIDMapNoTree.Error()) {
		t.Errorf("idmap: %v %q", err, out)
	}
}
