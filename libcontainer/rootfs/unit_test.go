package rootfs

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

func TestCheckProcMount(t *testing.T) {
	ok := []*configs.Mount{
		{Device: "proc", Destination: "/proc"},
		{Device: "proc", Destination: "/other/proc"},
		{Device: "bind", Source: "/proc", Destination: "/proc", Flags: unix.MS_BIND},
		{Device: "bind", Source: "/var/lib/lxcfs/proc/meminfo", Destination: "/proc/meminfo", Flags: unix.MS_BIND},
		{Device: "tmpfs", Destination: "/process"},
	}
	for _, m := range ok {
		if err := checkProcMount(m); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	bad := []*configs.Mount{
		{Device: "tmpfs", Destination: "/proc"},
		{Device: "bind", Source: "/etc", Destination: "/proc", Flags: unix.MS_BIND},
		{Device: "bind", Source: "/etc/passwd", Destination: "/proc/self/attr/current", Flags: unix.MS_BIND},
		{Device: "tmpfs", Destination: "/proc/sys"},
	}
	for _, m := range bad {
		if err := checkProcMount(m); !errors.Is(err, ErrProcMount) {
			t.Errorf("%+v: %v, want ErrProcMount", m, err)
		}
	}
}

func TestNeedsSetupDev(t *testing.T) {
	if !needsSetupDev(&configs.Config{}) {
		t.Error("no /dev mount: devices needed")
	}
	if !needsSetupDev(&configs.Config{Mounts: []*configs.Mount{{Device: "tmpfs", Destination: "/dev"}}}) {
		t.Error("tmpfs /dev: devices needed")
	}
	if needsSetupDev(&configs.Config{Mounts: []*configs.Mount{{Device: "bind", Destination: "/dev", Flags: unix.MS_BIND | unix.MS_REC}}}) {
		t.Error("bind /dev: no devices")
	}
}

func TestHelpers(t *testing.T) {
	if !hasOption("size=1k,mode=755", "mode") || hasOption("size=1k,nomode", "mode") || hasOption("", "mode") {
		t.Error("hasOption")
	}
	if f := splitFields(" shared:1  master:2 "); len(f) != 2 || f[0] != "shared:1" || f[1] != "master:2" {
		t.Errorf("splitFields = %q", f)
	}
	if !hasOption("a=1", "a") || hasOptional("master:1", "shared:") || !hasOptional("master:1 shared:3", "shared:") {
		t.Error("hasOptional")
	}
	for _, tc := range []struct {
		typ  string
		want uint32
	}{{"c", unix.S_IFCHR}, {"u", unix.S_IFCHR}, {"b", unix.S_IFBLK}, {"p", unix.S_IFIFO}} {
		if got, err := deviceType(tc.typ); err != nil || got != tc.want {
			t.Errorf("deviceType(%q) = %#o, %v", tc.typ, got, err)
		}
	}
	if _, err := deviceType("x"); !errors.Is(err, ErrBadDevice) {
		t.Errorf("deviceType(x): %v", err)
	}
}

func TestMountFlagsOfRoot(t *testing.T) {
	// /proc is mounted nosuid,nodev,noexec on most hosts; at least the
	// call must work and translate.
	fl, err := mountFlagsOf("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if fl&^(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOATIME|unix.MS_NODIRATIME|unix.MS_RELATIME|unix.MS_NOSYMFOLLOW) != 0 {
		t.Errorf("untranslated bits in %#x", fl)
	}
}

// The mountinfo lookups of the rootfs' mount are skipped only where no
// mount can be shared: "/" made recursively slave or private, and no
// configured mount asking for shared propagation.
func TestMayBeShared(t *testing.T) {
	for _, c := range []struct {
		prop   uintptr
		mounts []*configs.Mount
		want   bool
	}{
		{0, nil, false}, // rt's default, rslave
		{unix.MS_SLAVE | unix.MS_REC, nil, false},
		{unix.MS_PRIVATE | unix.MS_REC, nil, false},
		{unix.MS_SLAVE, nil, true}, // not recursive: submounts keep theirs
		{unix.MS_PRIVATE, nil, true},
		{unix.MS_SHARED | unix.MS_REC, nil, true},
		{unix.MS_UNBINDABLE | unix.MS_REC, nil, false}, // applied in Finalize; "/" gets rslave
		{0, []*configs.Mount{{Destination: "/v", PropagationFlags: []uintptr{unix.MS_SHARED | unix.MS_REC}}}, true},
		{0, []*configs.Mount{{Destination: "/v", PropagationFlags: []uintptr{unix.MS_PRIVATE}}}, false},
	} {
		cfg := &configs.Config{RootPropagation: c.prop, Mounts: c.mounts}
		if got := mayBeShared(cfg); got != c.want {
			t.Errorf("rootfsPropagation %#x, mounts %v: mayBeShared = %v, want %v", c.prop, c.mounts, got, c.want)
		}
	}
}

// CompileReason sends to the Go set-up what the C set-up cannot read: more
// propagation options on one mount than setup.c takes.
func TestCompileReasonPropagationBound(t *testing.T) {
	m := &configs.Mount{Destination: "/x", Device: "tmpfs", Source: "tmpfs"}
	for i := 0; i <= maxSetupPropagation; i++ {
		m.PropagationFlags = append(m.PropagationFlags, unix.MS_PRIVATE)
	}
	if r := mountReason(m); r == "" {
		t.Fatalf("%d propagation options: the C set-up would refuse them, CompileReason accepts", len(m.PropagationFlags))
	}
	m.PropagationFlags = m.PropagationFlags[:maxSetupPropagation]
	if r := mountReason(m); r != "" {
		t.Fatalf("%d propagation options refused: %s", len(m.PropagationFlags), r)
	}
}
