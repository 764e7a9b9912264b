package initproto

import "fmt"

// Setup is a container's set-up (its mounts, devices, pivot_root, masked
// and read-only paths, hostname, sysctls, cwd) as a list of operations,
// computed by the parent (rootfs.Compile) and applied in order by the C
// init (nsenter/setup.c), so that no Go set-up child has to start in the
// container. It travels as one SetupPlan frame after the PlanMsg (and the
// StartHooks) frames; its payload is records as in Plan (a tag byte, a u32
// little-endian length, the fields: integers first, then strings, each
// ending with its only NUL). Every record starts its strings with ctx, the
// text that prefixes the record's error ("prepare rootfs: mount ..."), so
// that errors read as the Go set-up's do. Tags, applied in order:
//
//	'l'                        bring the loopback interface up
//	'r' u64 prop; rootfs       mount("", "/", prop); bind rootfs onto itself
//	                           (recursively); rootfs is then the root of
//	                           every destination below
//	'f' u64 flags, u32 bits, u64 recset, u64 recclr, u32 nprop, u64 prop...;
//	    dest, fstype, source, data
//	                           mount(2) of a filesystem on the directory dest
//	'b' (as 'f'); dest, source a bind of the host's source on dest
//	'a' u64 set, u64 clr; dest recursive mount_setattr of dest
//	'd' u32 mode, major, minor, uid, gid; path
//	                           mknod (a bind of the host's node on EPERM)
//	's' u32 bits; dir, target, name
//	                           symlink dir/name -> target (bits&1: replace)
//	'p' u64 prop; rootfs       pivot_root into rootfs; then mount("", "/",
//	                           prop) if prop != 0; destinations are now
//	                           resolved in "/"
//	'h' hostname; 'n' domainname
//	'y' name, value            write value to /proc/<name> (a sysctl)
//	'w' path                   mkdir -p path (the process's cwd)
//	'R' path                   a read-only path (recursive bind, read-only)
//	'm' path                   a masked path
//	'o' dest                   make the mount on dest read-only
//	'O'                        remount "/" read-only (MS_REMOUNT|MS_BIND)
//	'H'                        ask the parent to run its prestart and
//	                           createRuntime hooks (Hooks; wait for HooksOK)
//	'C' dir, then the hooks' payload (nsenter/pid1_hooks.c) as the rest
//	                           run the createContainer hooks from dir
//
// bits of 'f' and 'b': SetupRealDir, SetupKeepMode, SetupRecursive,
// SetupRemount. The C decoder refuses unknown tags and
// malformed records before it applies any.
type Setup struct {
	w planBuf
}

// The bits of a mount record (nsenter/setup.c has the same values).
const (
	// SetupRealDir: dest must be an ordinary directory if it exists (proc
	// and sysfs: CVE-2019-19921, CVE-2023-27561).
	SetupRealDir uint32 = 1
	// SetupKeepMode: a tmpfs over an existing directory keeps its mode.
	SetupKeepMode uint32 = 2
	// SetupRecursive: a recursive bind. (4 is unused: the C init makes a
	// bind's target a file when the source it opened is not a directory.)
	SetupRecursive uint32 = 8
	// SetupRemount: the bind is remounted with exactly flags (MS_REMOUNT |
	// MS_BIND semantics: what is not in flags is cleared).
	SetupRemount uint32 = 16
)

// MountSpec are a mount record's fields.
type MountSpec struct {
	Ctx, Dest, FsType, Source, Data string
	Flags                           uint64
	Bits                            uint32
	RecSet, RecClr                  uint64
	Propagation                     []uint64
}

func (s *Setup) mountRec(tag byte, m *MountSpec, strs ...string) {
	parts := []any{m.Flags, m.Bits, m.RecSet, m.RecClr, uint32(len(m.Propagation))}
	for _, p := range m.Propagation {
		parts = append(parts, p)
	}
	for _, str := range strs {
		parts = append(parts, str)
	}
	s.w.rec(tag, parts...)
}

func (s *Setup) Loopback()                         { s.w.rec('l') }
func (s *Setup) Root(ctx, rootfs string, p uint64) { s.w.rec('r', p, ctx, rootfs) }
func (s *Setup) Mount(m *MountSpec) {
	s.mountRec('f', m, m.Ctx, m.Dest, m.FsType, m.Source, m.Data)
}
func (s *Setup) Bind(m *MountSpec) { s.mountRec('b', m, m.Ctx, m.Dest, m.Source) }
func (s *Setup) Attr(ctx, dest string, set, clr uint64) {
	s.w.rec('a', set, clr, ctx, dest)
}
func (s *Setup) Device(ctx, path string, mode, major, minor, uid, gid uint32) {
	s.w.rec('d', mode, major, minor, uid, gid, ctx, path)
}
func (s *Setup) Symlink(ctx, dir, target, name string, replace bool) {
	var bits uint32
	if replace {
		bits = 1
	}
	s.w.rec('s', bits, ctx, dir, target, name)
}
func (s *Setup) Pivot(ctx, rootfs string, p uint64) { s.w.rec('p', p, ctx, rootfs) }
func (s *Setup) Hostname(ctx, name string)          { s.w.rec('h', ctx, name) }
func (s *Setup) Domainname(ctx, name string)        { s.w.rec('n', ctx, name) }
func (s *Setup) ProcWrite(ctx, name, value string)  { s.w.rec('y', ctx, name, value) }
func (s *Setup) Mkdir(ctx, path string)             { s.w.rec('w', ctx, path) }
func (s *Setup) ReadonlyPath(ctx, path string)      { s.w.rec('R', ctx, path) }
func (s *Setup) MaskedPath(ctx, path string)        { s.w.rec('m', ctx, path) }
func (s *Setup) ReadonlyMount(ctx, dest string)     { s.w.rec('o', ctx, dest) }
func (s *Setup) RootReadonly(ctx string)            { s.w.rec('O', ctx) }
func (s *Setup) ParentHooks(ctx string)             { s.w.rec('H', ctx) }
func (s *Setup) CreateHooks(ctx, dir string, payload []byte) {
	s.w.rec('C', ctx, dir, payload)
}

// Encode returns the SetupPlan frame.
func (s *Setup) Encode() ([]byte, error) {
	if s.w.err != nil {
		return nil, s.w.err
	}
	if len(s.w.b) > MaxPlanLen {
		return nil, fmt.Errorf("%w: set-up of %d bytes exceeds %d", ErrBadPlan, len(s.w.b), MaxPlanLen)
	}
	return Encode(SetupPlan, s.w.b), nil
}
