package specconv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestConvertMountFlags(t *testing.T) {
	tests := []struct {
		name    string
		opts    []string
		flags   uintptr
		cleared uintptr
		data    string
	}{
		{"none", nil, 0, 0, ""},
		{"ro", []string{"ro"}, unix.MS_RDONLY, 0, ""},
		{"ro then rw", []string{"ro", "rw"}, 0, unix.MS_RDONLY, ""},
		{"rw then ro", []string{"rw", "ro"}, unix.MS_RDONLY, 0, ""},
		{"nosuid nodev noexec", []string{"nosuid", "nodev", "noexec"}, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, 0, ""},
		{"suid dev exec", []string{"suid", "dev", "exec"}, 0, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sync", []string{"sync"}, unix.MS_SYNCHRONOUS, 0, ""},
		{"async", []string{"async"}, 0, unix.MS_SYNCHRONOUS, ""},
		{"dirsync", []string{"dirsync"}, unix.MS_DIRSYNC, 0, ""},
		{"remount", []string{"remount"}, unix.MS_REMOUNT, 0, ""},
		{"mand", []string{"mand"}, unix.MS_MANDLOCK, 0, ""},
		{"nomand", []string{"nomand"}, 0, unix.MS_MANDLOCK, ""},
		{"noatime", []string{"noatime"}, unix.MS_NOATIME, 0, ""},
		{"atime", []string{"atime"}, 0, unix.MS_NOATIME, ""},
		{"nodiratime", []string{"nodiratime"}, unix.MS_NODIRATIME, 0, ""},
		{"diratime", []string{"diratime"}, 0, unix.MS_NODIRATIME, ""},
		{"relatime", []string{"relatime"}, unix.MS_RELATIME, 0, ""},
		{"norelatime", []string{"norelatime"}, 0, unix.MS_RELATIME, ""},
		{"strictatime", []string{"strictatime"}, unix.MS_STRICTATIME, 0, ""},
		{"nostrictatime", []string{"nostrictatime"}, 0, unix.MS_STRICTATIME, ""},
		{"nosymfollow", []string{"nosymfollow"}, unix.MS_NOSYMFOLLOW, 0, ""},
		{"symfollow", []string{"symfollow"}, 0, unix.MS_NOSYMFOLLOW, ""},
		{"lazytime", []string{"lazytime"}, unix.MS_LAZYTIME, 0, ""},
		{"defaults", []string{"defaults"}, 0, 0, ""},
		{"data kept in order", []string{"mode=755", "nosuid", "size=65536k"}, unix.MS_NOSUID, 0, "mode=755,size=65536k"},
		{"devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
			unix.MS_NOSUID | unix.MS_NOEXEC, 0, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ConvertMount(specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: tc.opts}, "/bundle")
			if err != nil {
				t.Fatal(err)
			}
			if m.Flags != tc.flags {
				t.Errorf("flags = %#x, want %#x", m.Flags, tc.flags)
			}
			if m.ClearedFlags != tc.cleared {
				t.Errorf("cleared = %#x, want %#x", m.ClearedFlags, tc.cleared)
			}
			if m.Data != tc.data {
				t.Errorf("data = %q, want %q", m.Data, tc.data)
			}
			if m.Device != "tmpfs" || m.Source != "tmpfs" {
				t.Errorf("device/source = %q/%q", m.Device, m.Source)
			}
		})
	}
}

func TestConvertMountPropagation(t *testing.T) {
	m, err := ConvertMount(specs.Mount{Destination: "/x", Type: "bind", Source: "/src",
		Options: []string{"rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}}, "/b")
	if err != nil {
		t.Fatal(err)
	}
	want := []uintptr{
		unix.MS_PRIVATE, unix.MS_PRIVATE | unix.MS_REC,
		unix.MS_SHARED, unix.MS_SHARED | unix.MS_REC,
		unix.MS_SLAVE, unix.MS_SLAVE | unix.MS_REC,
		unix.MS_UNBINDABLE, unix.MS_UNBINDABLE | unix.MS_REC,
	}
	if !reflect.DeepEqual(m.PropagationFlags, want) {
		t.Errorf("propagation = %#x, want %#x", m.PropagationFlags, want)
	}
	if m.Flags != unix.MS_BIND|unix.MS_REC {
		t.Errorf("flags = %#x", m.Flags)
	}
	if m.Data != "" {
		t.Errorf("data = %q", m.Data)
	}
}

func TestConvertMountRecursiveAttrs(t *testing.T) {
	tests := []struct {
		opts     []string
		set, clr uint64
	}{
		{[]string{"rro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{[]string{"rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rro", "rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rnosuid"}, unix.MOUNT_ATTR_NOSUID, 0},
		{[]string{"rsuid"}, 0, unix.MOUNT_ATTR_NOSUID},
		{[]string{"rnodev"}, unix.MOUNT_ATTR_NODEV, 0},
		{[]string{"rdev"}, 0, unix.MOUNT_ATTR_NODEV},
		{[]string{"rnoexec"}, unix.MOUNT_ATTR_NOEXEC, 0},
		{[]string{"rexec"}, 0, unix.MOUNT_ATTR_NOEXEC},
		{[]string{"rnodiratime"}, unix.MOUNT_ATTR_NODIRATIME, 0},
		{[]string{"rdiratime"}, 0, unix.MOUNT_ATTR_NODIRATIME},
		{[]string{"rrelatime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnorelatime"}, unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime"}, unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"ratime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "ratime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "rnodiratime"}, unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NODIRATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnostrictatime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnosymfollow"}, unix.MOUNT_ATTR_NOSYMFOLLOW, 0},
		{[]string{"rsymfollow"}, 0, unix.MOUNT_ATTR_NOSYMFOLLOW},
		{[]string{"rro", "rnosuid", "rnodev"}, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV, 0},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.opts, ","), func(t *testing.T) {
			m, err := ConvertMount(specs.Mount{Destination: "/x", Type: "bind", Source: "/s", Options: append([]string{"rbind"}, tc.opts...)}, "/b")
			if err != nil {
				t.Fatal(err)
			}
			if m.RecAttrSet != tc.set || m.RecAttrClr != tc.clr {
				t.Errorf("set/clr = %#x/%#x, want %#x/%#x", m.RecAttrSet, m.RecAttrClr, tc.set, tc.clr)
			}
			if m.Flags != unix.MS_BIND|unix.MS_REC || m.Data != "" {
				t.Errorf("flags %#x data %q: recursive attrs leaked", m.Flags, m.Data)
			}
		})
	}
}

func TestConvertMountBind(t *testing.T) {
	tests := []struct {
		name  string
		m     specs.Mount
		src   string
		flags uintptr
	}{
		{"type bind", specs.Mount{Type: "bind", Source: "/data", Destination: "/d"}, "/data", unix.MS_BIND},
		{"type bind rbind", specs.Mount{Type: "bind", Source: "/data", Destination: "/d", Options: []string{"rbind"}}, "/data", unix.MS_BIND | unix.MS_REC},
		{"option bind no type", specs.Mount{Source: "/data", Destination: "/d", Options: []string{"bind", "ro"}}, "/data", unix.MS_BIND | unix.MS_RDONLY},
		{"option rbind type none", specs.Mount{Type: "none", Source: "/data", Destination: "/d", Options: []string{"rbind"}}, "/data", unix.MS_BIND | unix.MS_REC},
		{"relative source", specs.Mount{Type: "bind", Source: "vol/a", Destination: "/d"}, "/bundle/vol/a", unix.MS_BIND},
		{"dot-dot source", specs.Mount{Type: "bind", Source: "../x", Destination: "/d"}, "/x", unix.MS_BIND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ConvertMount(tc.m, "/bundle")
			if err != nil {
				t.Fatal(err)
			}
			if m.Device != "bind" || !m.IsBind() {
				t.Errorf("device = %q, IsBind %v", m.Device, m.IsBind())
			}
			if m.Source != tc.src {
				t.Errorf("source = %q, want %q", m.Source, tc.src)
			}
			if m.Flags != tc.flags {
				t.Errorf("flags = %#x, want %#x", m.Flags, tc.flags)
			}
		})
	}
	// A relative source of a non-bind mount is the filesystem's business.
	m, err := ConvertMount(specs.Mount{Type: "tmpfs", Source: "shm", Destination: "/dev/shm"}, "/bundle")
	if err != nil || m.Source != "shm" || m.IsBind() {
		t.Errorf("tmpfs: %+v, %v", m, err)
	}
}

func TestConvertMountDestination(t *testing.T) {
	m, err := ConvertMount(specs.Mount{Type: "proc", Source: "proc", Destination: "/proc/../proc//"}, "/b")
	if err != nil {
		t.Fatal(err)
	}
	if m.Destination != "/proc" {
		t.Errorf("destination = %q", m.Destination)
	}
	// Relative destinations are relative to "/" (runc 1.5), and cannot
	// climb out of it.
	for dst, want := range map[string]string{"proc": "/proc", "./tmp": "/tmp", "../etc": "/etc", "a/../../b": "/b"} {
		m, err := ConvertMount(specs.Mount{Type: "proc", Source: "proc", Destination: dst}, "/b")
		if err != nil || m.Destination != want {
			t.Errorf("%q: got %+v, %v; want destination %q", dst, m, err, want)
		}
	}
	for _, dst := range []string{""} {
		_, err := ConvertMount(specs.Mount{Type: "proc", Source: "proc", Destination: dst}, "/b")
		if !errors.Is(err, ErrMountDestinationNotAbsolute) {
			t.Errorf("%q: err = %v, want ErrMountDestinationNotAbsolute", dst, err)
			continue
		}
		if !strings.Contains(err.Error(), "\""+dst+"\"") {
			t.Errorf("%q: error %q does not name the destination", dst, err)
		}
	}
}

func TestConvertMountUnknownType(t *testing.T) {
	m, err := ConvertMount(specs.Mount{Type: "fuse.sshfs", Source: "u@h:", Destination: "/m", Options: []string{"allow_other", "ro"}}, "/b")
	if err != nil {
		t.Fatal(err)
	}
	if m.Device != "fuse.sshfs" || m.Data != "allow_other" || m.Flags != unix.MS_RDONLY {
		t.Errorf("got %+v", m)
	}
}

func TestConvertMountExtensions(t *testing.T) {
	m, err := ConvertMount(specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: "/etc", Options: []string{"tmpcopyup", "mode=755"}}, "/b")
	if err != nil {
		t.Fatal(err)
	}
	if !m.TmpcopyUp || m.Data != "mode=755" {
		t.Errorf("tmpcopyup: %+v", m)
	}

	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	for _, tc := range []struct {
		opt string
		rec bool
	}{{"idmap", false}, {"ridmap", true}} {
		m, err := ConvertMount(specs.Mount{Type: "bind", Source: "/s", Destination: "/d", Options: []string{tc.opt},
			UIDMappings: maps, GIDMappings: maps}, "/b")
		if err != nil {
			t.Fatalf("%s: %v", tc.opt, err)
		}
		if !m.IDMap || m.IDMapRecursive != tc.rec || !reflect.DeepEqual(m.UIDMappings, maps) || !reflect.DeepEqual(m.GIDMappings, maps) || m.Data != "" {
			t.Errorf("%s: %+v", tc.opt, m)
		}
	}
	// Without mappings of its own, an idmap mount uses the container's.
	if m, err := ConvertMount(specs.Mount{Type: "bind", Source: "/s", Destination: "/d", Options: []string{"idmap"}}, "/b"); err != nil || !m.IDMap || m.UIDMappings != nil {
		t.Errorf("idmap without mappings: %+v, %v", m, err)
	}

	bad := []specs.Mount{
		{Type: "bind", Source: "/s", Destination: "/d", UIDMappings: maps},
		{Type: "bind", Source: "/s", Destination: "/d", GIDMappings: maps, Options: []string{"ridmap"}},
		{Type: "tmpfs", Source: "tmpfs", Destination: "/d", UIDMappings: maps, GIDMappings: maps},
	}
	for i, b := range bad {
		if _, err := ConvertMount(b, "/b"); !errors.Is(err, ErrMountIDMapping) {
			t.Errorf("bad[%d]: err = %v, want ErrMountIDMapping", i, err)
		}
	}
}

func TestMountOptionsListsEverything(t *testing.T) {
	opts := MountOptions()
	have := map[string]bool{}
	for _, o := range opts {
		have[o] = true
	}
	for _, o := range []string{"ro", "rbind", "rprivate", "rro", "rnosymfollow", "tmpcopyup", "idmap", "ridmap", "lazytime"} {
		if !have[o] {
			t.Errorf("MountOptions lacks %q", o)
		}
	}
	for i := 1; i < len(opts); i++ {
		if opts[i-1] >= opts[i] {
			t.Fatalf("not sorted/unique at %q", opts[i])
		}
	}
}
