package rootfs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// The set-up in C (issue 12): for the configs CompileReason accepts, the
// parent compiles the container's set-up (what PrepareMounts, PivotRoot,
// the init's hostname/sysctl/cwd steps and Finalize do) into an
// initproto.Setup, and the container's C init applies it
// (nsenter/setup.c): no Go set-up child starts in the container. Every
// other config keeps the Go set-up, which stays the reference: the two
// must leave the same container (tests/setupc_test.go compares them).

// CompileReason returns "" when cfg's set-up can be applied in C, or why
// not (said in --debug): the steps the C init does not do (a console, idmapped mounts, tmpcopyup, --no-pivot, user
// namespaces, shared propagation, mounts the Go set-up would refuse, whose
// errors it words).
func CompileReason(cfg *configs.Config) string {
	switch {
	case !cfg.HasNewNamespace(specs.MountNamespace):
		return "no new mount namespace"
	case cfg.NoPivot:
		return "--no-pivot"
	case cfg.NamespaceOf(specs.UserNamespace) != nil || len(cfg.UIDMappings) > 0 || len(cfg.GIDMappings) > 0:
		return "a user namespace"
	case os.Geteuid() != 0 || runtimeInUserNS():
		return "rootless"
	case !mountAPI():
		return "a kernel without openat2 and mount_setattr (Linux 5.12)"
	case cfg.Process == nil || cfg.Process.Terminal:
		return "a console"
	case !noneShared(rootPropagation(cfg)) || cfg.RootPropagation&unix.MS_UNBINDABLE != 0:
		return "rootfs propagation " + strconv.FormatUint(uint64(cfg.RootPropagation), 16)
	}
	for i, m := range cfg.Mounts {
		if r := mountReason(m); r != "" {
			return fmt.Sprintf("mounts[%d]: %s", i, r)
		}
	}
	if needsSetupDev(cfg) {
		for i, d := range cfg.Devices {
			if _, err := deviceType(d.Type); err != nil || !path.IsAbs(d.Path) || path.Clean(d.Path) == "/" {
				return fmt.Sprintf("linux.devices[%d]: invalid", i)
			}
		}
	}
	return ""
}

func mountReason(m *configs.Mount) string {
	switch {
	case m.IDMap || m.SourceTree:
		return "idmapped"
	case m.TmpcopyUp:
		return "tmpcopyup"
	case !path.IsAbs(m.Destination):
		return "relative destination"
	case m.IsBind() && !filepath.IsAbs(m.Source):
		return "relative source"
	case m.Destination == "/proc" && m.IsBind():
		// checkProcMount would look at the source from the parent,
		// which must not touch the config's paths (a hung file system
		// would hang it): the Go set-up child, bounded, does.
		return "a bind on /proc"
	case checkProcMount(m) != nil:
		return "refused on /proc"
	case len(m.PropagationFlags) > maxSetupPropagation:
		return "more propagation options than the C set-up reads"
	case m.Device == "cgroup" && (len(m.PropagationFlags) > 0 || m.RecAttrSet != 0 || m.RecAttrClr != 0):
		return "cgroup with propagation or recursive attributes"
	}
	for _, p := range m.PropagationFlags {
		if p&unix.MS_SHARED != 0 {
			return "shared propagation"
		}
	}
	return ""
}

// maxSetupPropagation is the most propagation flags of one mount that
// nsenter/setup.c reads.
const maxSetupPropagation = 16

var (
	mountAPIOnce sync.Once
	mountAPIOK   bool
	usernsOnce   sync.Once
	usernsIn     bool
)

// mountAPI reports whether the kernel is Linux 5.12 or later (openat2,
// open_tree, move_mount, mount_setattr).
func mountAPI() bool {
	mountAPIOnce.Do(func() {
		var u unix.Utsname
		if unix.Uname(&u) != nil {
			return
		}
		rel := unix.ByteSliceToString(u.Release[:])
		maj, rest, _ := strings.Cut(rel, ".")
		minStr, _, _ := strings.Cut(rest, ".")
		a, err1 := strconv.Atoi(maj)
		b, err2 := strconv.Atoi(strings.TrimRightFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }))
		mountAPIOK = err1 == nil && err2 == nil && (a > 5 || a == 5 && b >= 12)
	})
	return mountAPIOK
}

func runtimeInUserNS() bool {
	usernsOnce.Do(func() { usernsIn = inUserNamespace() })
	return usernsIn
}

// HostView is what Compile needs to know of the host that does not depend
// on the container's init (the cgroup hierarchies from mountinfo):
// gathered by HostViewOf while the init starts, off create's critical
// path.
type HostView struct {
	cgroupV2 bool
	hier     []cgroupHierarchy // cgroup v1 or hybrid, when cfg mounts "cgroup"
	// binds: the hierarchies are bound from the host (no cgroup namespace
	// of the container's own), from the init's cgroups.
	binds bool
}

// NeedsInitCgroups reports whether Compile needs the init's
// /proc/<pid>/cgroup (the cgroup v1 binds): only then is it read.
func (v *HostView) NeedsInitCgroups() bool { return v.binds }

// HostViewOf reads what Compile needs of the host for cfg.
func HostViewOf(cfg *configs.Config) (*HostView, error) {
	v := &HostView{}
	var st unix.Statfs_t
	v.cgroupV2 = unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	if v.cgroupV2 {
		return v, nil
	}
	for _, m := range cfg.Mounts {
		if m.Device == "cgroup" && !m.IsBind() {
			hier, err := hostCgroupHierarchies()
			if err != nil {
				return nil, err
			}
			v.hier = hier
			v.binds = !cfg.HasNewNamespace(specs.CgroupNamespace)
			break
		}
	}
	return v, nil
}

// Compile returns cfg's set-up as the C init applies it (CompileReason(cfg)
// must be ""). host is HostViewOf(cfg); initCgroups is the container's
// init's /proc/<pid>/cgroup (the host's view) when host.NeedsInitCgroups(),
// for the cgroup v1 binds;
// createHooks, cfg's createContainer hooks as the C init reads them (nil
// without any).
func Compile(cfg *configs.Config, host *HostView, initCgroups string, createHooks []byte) *initproto.Setup {
	s := &initproto.Setup{}
	if cfg.HasNewNamespace(specs.NetworkNamespace) {
		s.Loopback()
	}
	s.Root(fmt.Sprintf("prepare rootfs: prepare rootfs %q", cfg.Rootfs), cfg.Rootfs, uint64(rootPropagation(cfg)))
	for _, m := range cfg.Mounts {
		compileMount(s, cfg, m, host, initCgroups)
	}
	if needsSetupDev(cfg) {
		compileDevices(s, cfg)
	}
	if len(cfg.Hooks.Prestart)+len(cfg.Hooks.CreateRuntime) > 0 {
		// The parent runs them when asked, after the mounts and before
		// pivot_root (as runc, and the Go set-up's askHooks).
		s.ParentHooks("prestart or createRuntime hooks")
	}
	if createHooks != nil {
		// In the container's namespaces, from the rootfs, before
		// pivot_root (as runc, and the Go set-up).
		s.CreateHooks("createContainer hooks", cfg.Rootfs, createHooks)
	}
	var prop uint64
	if p := cfg.RootPropagation; p != 0 && p&unix.MS_UNBINDABLE == 0 {
		prop = uint64(p)
	}
	s.Pivot("pivot root", cfg.Rootfs, prop)
	if cfg.Hostname != "" {
		s.Hostname("", cfg.Hostname)
	}
	if cfg.Domainname != "" {
		s.Domainname("", cfg.Domainname)
	}
	keys := make([]string, 0, len(cfg.Sysctl))
	for k := range cfg.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.ProcWrite(fmt.Sprintf("linux.sysctl[%q]", k), "sys/"+strings.ReplaceAll(k, ".", "/"), cfg.Sysctl[k])
	}
	s.Mkdir("process.cwd: create "+cfg.Process.Cwd, cfg.Process.Cwd)
	for _, p := range cfg.ReadonlyPaths {
		s.ReadonlyPath(fmt.Sprintf("finalize rootfs: readonly path %q", p), p)
	}
	seen := map[string]bool{}
	for _, p := range cfg.MaskedPaths {
		if c := filepath.Clean("/" + p); !seen[c] {
			seen[c] = true
			s.MaskedPath(fmt.Sprintf("finalize rootfs: masked path %q", p), p)
		}
	}
	for _, m := range cfg.Mounts {
		if m.Destination == "/dev" && m.Flags&unix.MS_RDONLY != 0 && !m.IsBind() {
			s.ReadonlyMount("finalize rootfs: /dev read-only", "/dev")
		}
	}
	if cfg.Readonly {
		s.RootReadonly("finalize rootfs: rootfs read-only")
	}
	return s
}

func compileMount(s *initproto.Setup, cfg *configs.Config, m *configs.Mount, host *HostView, initCgroups string) {
	ctx := fmt.Sprintf("prepare rootfs: mount %q (type %q) on %q", m.Source, m.Device, m.Destination)
	spec := &initproto.MountSpec{Ctx: ctx, Dest: m.Destination, Source: m.Source, FsType: m.Device,
		Data: m.Data, Flags: uint64(m.Flags), RecSet: m.RecAttrSet, RecClr: m.RecAttrClr}
	for _, p := range m.PropagationFlags {
		spec.Propagation = append(spec.Propagation, uint64(p))
	}
	if m.Device == "proc" || m.Device == "sysfs" || m.Destination == "/proc" || m.Destination == "/sys" {
		spec.Bits |= initproto.SetupRealDir
	}
	switch {
	case m.IsBind():
		// Whether the target is a file or a directory, the C init learns
		// from the source it opened: the parent never looks at it (a
		// source on a hung file system would hang rt, unbounded).
		spec.Flags = uint64(m.Flags &^ bindOnlyFlags)
		if m.Flags&unix.MS_REC != 0 {
			spec.Bits |= initproto.SetupRecursive
		}
		if hasFlagOptions(m) {
			spec.Bits |= initproto.SetupRemount
		}
		s.Bind(spec)
	case m.Device == "tmpfs":
		if m.Source == "" {
			spec.Source = "tmpfs"
		}
		if m.Destination == "/dev" {
			spec.Flags &^= unix.MS_RDONLY // made read-only at the end
		}
		if !hasOption(m.Data, "mode") {
			spec.Bits |= initproto.SetupKeepMode
		}
		s.Mount(spec)
	case m.Device == "cgroup":
		if host.cgroupV2 {
			spec.FsType = "cgroup2"
			s.Mount(spec)
			return
		}
		compileCgroupV1(s, cfg, m, ctx, host.hier, initCgroups)
	default:
		s.Mount(spec)
	}
}

// compileCgroupV1 is mountCgroup's v1 branch: a tmpfs with every host
// hierarchy in it, then m's flags on the whole tree.
func compileCgroupV1(s *initproto.Setup, cfg *configs.Config, m *configs.Mount, ctx string, hier []cgroupHierarchy, initCgroups string) {
	s.Mount(&initproto.MountSpec{Ctx: ctx + ": cgroup tmpfs", Dest: m.Destination, Source: "tmpfs", FsType: "tmpfs",
		Data: "mode=755", Flags: uint64(m.Flags &^ unix.MS_RDONLY)})
	newNS := cfg.HasNewNamespace(specs.CgroupNamespace)
	var own map[string]string
	if !newNS {
		own = parseCgroups(initCgroups)
	}
	for _, h := range hier {
		name := filepath.Base(h.mountpoint)
		dest := path.Join(m.Destination, name)
		hctx := fmt.Sprintf("%s: cgroup hierarchy %q", ctx, name)
		if newNS {
			s.Mount(&initproto.MountSpec{Ctx: hctx, Dest: dest, Source: h.fstype, FsType: h.fstype,
				Data: strings.Join(h.options, ","), Flags: uint64(m.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT))})
		} else {
			s.Bind(&initproto.MountSpec{Ctx: hctx, Dest: dest, Source: h.bindSource(own),
				Bits: initproto.SetupRecursive})
		}
		if strings.Contains(name, ",") {
			for _, c := range strings.Split(name, ",") {
				s.Symlink(fmt.Sprintf("%s: symlink %q", ctx, path.Join(m.Destination, c)), m.Destination, name, c, false)
			}
		}
	}
	if attr := mountAttrOf(m.Flags); attr != 0 {
		var clr uint64
		if attr&unix.MOUNT_ATTR__ATIME != 0 {
			clr = unix.MOUNT_ATTR__ATIME
		}
		s.Attr(fmt.Sprintf("%s: cgroup mount attributes %#x", ctx, attr), m.Destination, attr, clr)
	}
}

// parseCgroups parses a /proc/<pid>/cgroup text into hierarchy key (sorted
// controllers, "" for cgroup2) → cgroup path.
func parseCgroups(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var ctrls []string
		if parts[1] != "" {
			ctrls = strings.Split(parts[1], ",")
		}
		sort.Strings(ctrls)
		out[strings.Join(ctrls, ",")] = parts[2]
	}
	return out
}

// compileDevices is createDevices, setupPtmx and setupDevSymlinks.
func compileDevices(s *initproto.Setup, cfg *configs.Config) {
	for _, d := range mergedDevices(cfg) {
		typ, _ := deviceType(d.Type)
		perm := uint32(0o666)
		if d.FileMode != nil {
			perm = uint32(d.FileMode.Perm())
		}
		var uid, gid uint32
		if d.UID != nil {
			uid = *d.UID
		}
		if d.GID != nil {
			gid = *d.GID
		}
		s.Device(fmt.Sprintf("prepare rootfs: device %q", d.Path), d.Path, typ|perm, uint32(d.Major), uint32(d.Minor), uid, gid)
	}
	s.Symlink("prepare rootfs: symlink /dev/ptmx", "/dev", "pts/ptmx", "ptmx", true)
	for _, l := range devLinks() {
		s.Symlink("prepare rootfs: symlink /dev/"+l[1], "/dev", l[0], l[1], false)
	}
}
