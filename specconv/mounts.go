package specconv

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Sentinel errors of ConvertMount, for callers that branch on the cause.
var (
	// ErrMountDestinationNotAbsolute: an empty mount destination. (A
	// relative one is taken relative to "/" with a warning, as runc 1.5
	// does: runtime-spec 1.2 deprecated them but still allows them.)
	ErrMountDestinationNotAbsolute = errors.New("mount destination is not absolute")
	// ErrMountIDMapping: the idmap options and the uid/gid mappings of a
	// mount do not agree.
	ErrMountIDMapping = errors.New("invalid mount id mapping")
)

// mountFlag is one mount(8) option: it sets (clear=false) or clears
// (clear=true) an MS_* flag.
type mountFlag struct {
	clear bool
	flag  uintptr
}

// mountFlags are the mount(8) options that map to MS_* flags.
var mountFlags = map[string]mountFlag{
	"acl":           {false, unix.MS_POSIXACL},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noacl":         {true, unix.MS_POSIXACL},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// propagationFlags are the per-mount propagation options, applied in order
// after the mount.
var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recAttr is one recursive ("r*") option: it sets (clear=false) or clears
// (clear=true) a MOUNT_ATTR_* bit with mount_setattr(AT_RECURSIVE).
type recAttr struct {
	clear bool
	attr  uint64
}

// recAttrFlags are the recursive mount attribute options.
var recAttrFlags = map[string]recAttr{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// recAtimeModes are the recursive access-time options and the mode each
// sets (the last one given wins). The negative ones take mount(8)'s
// meaning: "atime" and "nostrictatime" are the kernel's default (relatime),
// "norelatime" updates the access time on every access (strictatime).
var recAtimeModes = map[string]uint64{
	"rrelatime":      unix.MOUNT_ATTR_RELATIME,
	"rnoatime":       unix.MOUNT_ATTR_NOATIME,
	"rstrictatime":   unix.MOUNT_ATTR_STRICTATIME,
	"ratime":         unix.MOUNT_ATTR_RELATIME,
	"rnostrictatime": unix.MOUNT_ATTR_RELATIME,
	"rnorelatime":    unix.MOUNT_ATTR_STRICTATIME,
}

// MountOptions lists every mount option ConvertMount understands (the
// mount(8) flags, propagation, recursive attributes and the rt/runc
// extensions), sorted; for `features`.
func MountOptions() []string {
	var opts []string
	for k := range mountFlags {
		opts = append(opts, k)
	}
	for k := range propagationFlags {
		opts = append(opts, k)
	}
	for k := range recAttrFlags {
		opts = append(opts, k)
	}
	for k := range recAtimeModes {
		opts = append(opts, k)
	}
	opts = append(opts, "tmpcopyup", "idmap", "ridmap")
	sort.Strings(opts)
	return opts
}

// ConvertMount turns one spec mount into rt's internal form, parsing its
// options. bundle is the absolute bundle directory: a relative bind source
// is taken relative to it. The error names the destination; the caller adds
// the mounts[i] index.
//
// Options that are neither MS_* flags, propagation, recursive attributes
// nor extensions (tmpcopyup, idmap, ridmap) are passed to the filesystem in
// Data, comma-joined, in order. Type "bind", or a bind/rbind option, makes
// a bind mount (Device "bind"). An unknown type is kept as is: the kernel
// decides.
//
// An idmapped mount ("idmap"/"ridmap", or uidMappings/gidMappings set) is a
// bind mount; with no mappings of its own it uses the container's user
// namespace (Convert checks that there is one).
func ConvertMount(m specs.Mount, bundle string) (*configs.Mount, error) {
	if m.Destination == "" {
		return nil, fmt.Errorf("mount destination %q: %w", m.Destination, ErrMountDestinationNotAbsolute)
	}
	dest := m.Destination
	if !filepath.IsAbs(dest) {
		logrus.Warnf("mount destination %s is not absolute: taken relative to / (non-absolute mount destinations are deprecated)", dest)
		dest = "/" + dest
	}
	cm := &configs.Mount{
		Source:      m.Source,
		Destination: filepath.Clean(dest),
		Device:      m.Type,
		UIDMappings: m.UIDMappings,
		GIDMappings: m.GIDMappings,
	}
	var data []string
	idmap := false
	for _, o := range m.Options {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				cm.Flags &^= f.flag
				cm.ClearedFlags |= f.flag
			} else {
				cm.Flags |= f.flag
				cm.ClearedFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[o]; ok {
			cm.PropagationFlags = append(cm.PropagationFlags, p)
			continue
		}
		if mode, ok := recAtimeModes[o]; ok {
			// The access-time setting is one 3-state field, not bits:
			// mount_setattr(2) takes the new mode in attr_set with all of
			// MOUNT_ATTR__ATIME in attr_clr (a part of it is EINVAL).
			cm.RecAttrSet = cm.RecAttrSet&^unix.MOUNT_ATTR__ATIME | mode
			cm.RecAttrClr |= unix.MOUNT_ATTR__ATIME
			continue
		}
		if a, ok := recAttrFlags[o]; ok {
			if a.clear {
				cm.RecAttrSet &^= a.attr
				cm.RecAttrClr |= a.attr
			} else {
				cm.RecAttrSet |= a.attr
				cm.RecAttrClr &^= a.attr
			}
			continue
		}
		switch o {
		case "tmpcopyup":
			cm.TmpcopyUp = true
		case "idmap":
			idmap = true
			cm.IDMapRecursive = false
		case "ridmap":
			idmap = true
			cm.IDMapRecursive = true
		default:
			data = append(data, o)
		}
	}
	cm.Data = strings.Join(data, ",")

	if m.Type == "bind" || cm.Flags&unix.MS_BIND != 0 {
		cm.Device = "bind"
		cm.Flags |= unix.MS_BIND
		if cm.Source != "" && !filepath.IsAbs(cm.Source) {
			cm.Source = filepath.Join(bundle, cm.Source)
		}
	}
	if err := checkIDMapping(cm, idmap); err != nil {
		return nil, fmt.Errorf("mount destination %q: %w", m.Destination, err)
	}
	cm.IDMap = idmap || len(cm.UIDMappings) > 0
	return cm, nil
}

// checkIDMapping validates the idmap options against the mappings.
func checkIDMapping(cm *configs.Mount, idmapOption bool) error {
	hasMaps := len(cm.UIDMappings) > 0 || len(cm.GIDMappings) > 0
	if !idmapOption && !hasMaps {
		return nil
	}
	if hasMaps && (len(cm.UIDMappings) == 0 || len(cm.GIDMappings) == 0) {
		return fmt.Errorf("%w: uidMappings and gidMappings must be set together", ErrMountIDMapping)
	}
	if !cm.IsBind() {
		return fmt.Errorf("%w: idmapped mounts must be bind mounts (type %q)", ErrMountIDMapping, cm.Device)
	}
	return nil
}
