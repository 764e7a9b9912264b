package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/criu"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
)

// CriuOpts are the options checkpoint and restore share (runc's CriuOpts).
type CriuOpts struct {
	// ImagesDirectory holds the images (created if missing).
	ImagesDirectory string
	// WorkDirectory holds criu's log and work files ("": ImagesDirectory).
	WorkDirectory string
	// ParentImage is the pre-dump to build on, relative to ImagesDirectory.
	ParentImage             string
	LeaveRunning            bool
	TCPEstablished          bool
	ExternalUnixConnections bool
	ShellJob                bool
	FileLocks               bool
	PreDump                 bool
	AutoDedup               bool
	LazyPages               bool
	// StatusFd (with LazyPages) receives a \0 once the lazy-pages server
	// is ready; -1 for none.
	StatusFd int
	// PageServer is "ADDRESS:PORT" split (port 0: no page server).
	PageServerAddress string
	PageServerPort    int32
	// ManageCgroupsMode is "", "soft", "full", "strict" or "ignore".
	ManageCgroupsMode string
	// EmptyNs is a CLONE_NEW* mask of namespaces criu creates empty.
	EmptyNs uint32
	// LsmProfile and LsmMountContext (restore) replace the checkpointed ones.
	LsmProfile      string
	LsmMountContext string
}

// descriptorsFile, in the image directory, names what the init's stdio
// was at checkpoint time (runc's format: a JSON list of fd link targets),
// so that restore can hand the same pipes new ends.
const descriptorsFile = "descriptors.json"

// netInfoFile, in the image directory, holds what rt restores of a
// network namespace criu keeps empty (netInfo).
const netInfoFile = "rt-network.json"

type netInfo struct {
	// LoopbackUp: lo was up in the container's own network namespace.
	LoopbackUp bool `json:"loopback_up"`
}

// ErrCheckpointState: the container is not running or paused.
var ErrCheckpointState = errors.New("container is not running or paused")

func cgroupMode(mode string) (rpc.CriuCgMode, error) {
	switch mode {
	case "":
		return rpc.CriuCgMode_DEFAULT, nil
	case "soft":
		return rpc.CriuCgMode_SOFT, nil
	case "full":
		return rpc.CriuCgMode_FULL, nil
	case "strict":
		return rpc.CriuCgMode_STRICT, nil
	case "ignore":
		return rpc.CriuCgMode_IGNORE, nil
	}
	return 0, fmt.Errorf("invalid --manage-cgroups-mode %q: want soft, full, strict or ignore", mode)
}

// criuConfigFile applies the org.criu.config annotation as runc does: a
// path names a criu configuration file; an empty value, none; without the
// annotation, /etc/criu/runc.conf (criu ignores a missing file).
func criuConfigFile(cfg *configs.Config, o *rpc.CriuOpts) {
	if v, ok := cfg.Annotations["org.criu.config"]; ok {
		if v != "" {
			o.ConfigFile = criu.Ptr(v)
		}
		return
	}
	o.ConfigFile = criu.Ptr("/etc/criu/runc.conf")
}

// criuNsKey is the key criu knows an external namespace by.
func criuNsKey(t specs.LinuxNamespaceType) string {
	n := nsProcName[t]
	return "extRoot" + strings.ToUpper(n[:1]) + n[1:] + "NS"
}

// containerRel turns a mount destination into the path criu sees inside
// the container (symlinks in the rootfs resolved, as create did).
func containerRel(rootfsPath, dest string) string {
	if p, err := securejoin.SecureJoin(rootfsPath, dest); err == nil {
		return "/" + strings.TrimPrefix(strings.TrimPrefix(p, rootfsPath), "/")
	}
	return path.Clean("/" + dest)
}

// externalMounts lists the container's mounts that come from outside it
// (bind mounts, cgroup v1 hierarchies, device nodes bound from the host):
// destination in the container → host source. pid is a process in the
// container's cgroups.
func externalMounts(cfg *configs.Config, pid int) ([]configs.Mount, error) {
	var out []configs.Mount
	cgroupNS := cfg.HasNewNamespace(specs.CgroupNamespace) || cfg.NamespaceOf(specs.CgroupNamespace) != nil
	for _, m := range cfg.Mounts {
		switch {
		case m.Device == "cgroup":
			if cgroupNS {
				continue // mounted afresh in the container's cgroup namespace
			}
			binds, err := rootfs.CgroupBinds(m, pid)
			if err != nil {
				return nil, fmt.Errorf("cgroup mount %q: %w", m.Destination, err)
			}
			out = append(out, binds...)
		case m.IsBind():
			out = append(out, *m)
		}
	}
	seen := map[string]bool{}
	for _, d := range append(append([]specs.LinuxDevice{}, rootfs.DefaultDevices...), cfg.Devices...) {
		if !seen[d.Path] {
			seen[d.Path] = true
			out = append(out, configs.Mount{Source: d.Path, Destination: d.Path, Device: "bind"})
		}
	}
	return out, nil
}

// Checkpoint dumps the running (or paused) container with CRIU into
// o.ImagesDirectory. Unless o.LeaveRunning or o.PreDump, the container is
// stopped and removed afterwards, as runc does.
func (c *Container) Checkpoint(o *CriuOpts) (retErr error) {
	defer func() {
		if retErr != nil {
			retErr = fmt.Errorf("checkpoint container %q: %w", c.ID(), retErr)
		}
	}()
	if _, err := criu.Find(); err != nil {
		return err
	}
	if o.ImagesDirectory == "" {
		return errors.New("invalid directory to save checkpoint")
	}
	cgMode, err := cgroupMode(o.ManageCgroupsMode)
	if err != nil {
		return err
	}
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	switch st := c.Status(); st {
	case Running, Paused:
	default:
		return fmt.Errorf("Container cannot be checkpointed in %s state: %w", st, ErrCheckpointState)
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	pid := c.state.InitPid

	if o.PreDump || o.ParentImage != "" {
		if err := criu.CheckFeatures(&rpc.CriuFeatures{MemTrack: criu.Ptr(true)}); err != nil {
			return err
		}
	}
	if o.LazyPages {
		if err := criu.CheckFeatures(&rpc.CriuFeatures{LazyPages: criu.Ptr(true)}); err != nil {
			return err
		}
	}
	if err := os.Mkdir(o.ImagesDirectory, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("image directory: %w", err)
	}
	imageDir, err := os.Open(o.ImagesDirectory)
	if err != nil {
		return fmt.Errorf("image directory: %w", err)
	}
	defer imageDir.Close()
	const logFile = "dump.log"
	logDir := o.ImagesDirectory
	opts := &rpc.CriuOpts{
		ImagesDirFd:       criu.Ptr(int32(imageDir.Fd())),
		LogLevel:          criu.Ptr(int32(4)),
		LogFile:           criu.Ptr(logFile),
		Root:              criu.Ptr(cfg.Rootfs),
		ManageCgroups:     criu.Ptr(true),
		ManageCgroupsMode: &cgMode,
		NotifyScripts:     criu.Ptr(true),
		Pid:               criu.Ptr(int32(pid)),
		ShellJob:          criu.Ptr(o.ShellJob),
		LeaveRunning:      criu.Ptr(o.LeaveRunning),
		TcpEstablished:    criu.Ptr(o.TCPEstablished),
		ExtUnixSk:         criu.Ptr(o.ExternalUnixConnections),
		FileLocks:         criu.Ptr(o.FileLocks),
		EmptyNs:           criu.Ptr(o.EmptyNs),
		OrphanPtsMaster:   criu.Ptr(true),
		AutoDedup:         criu.Ptr(o.AutoDedup),
		LazyPages:         criu.Ptr(o.LazyPages),
	}
	if o.WorkDirectory != "" {
		if err := os.MkdirAll(o.WorkDirectory, 0o700); err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		wd, err := os.Open(o.WorkDirectory)
		if err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		defer wd.Close()
		opts.WorkDirFd = criu.Ptr(int32(wd.Fd()))
		logDir = o.WorkDirectory
	}
	criuConfigFile(cfg, opts)
	// Namespaces the container joined by path stay outside the image:
	// restore expects them to exist.
	for _, t := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace} {
		ns := cfg.NamespaceOf(t)
		if ns == nil || ns.Path == "" {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(ns.Path, &st); err != nil {
			return fmt.Errorf("%s namespace %s: %w", t, ns.Path, err)
		}
		opts.External = append(opts.External, fmt.Sprintf("%s[%d]:%s", nsProcName[t], st.Ino, criuNsKey(t)))
	}
	// Freeze through the cgroup (v1 freezer, or cgroup v2's cgroup.freeze).
	if p := freezerPath(c.state.CgroupPaths); p != "" {
		opts.FreezeCgroup = criu.Ptr(p)
	}
	if o.PageServerPort != 0 {
		opts.Ps = &rpc.CriuPageServerInfo{Address: criu.Ptr(o.PageServerAddress), Port: criu.Ptr(o.PageServerPort)}
	}
	if o.ParentImage != "" {
		opts.ParentImg = criu.Ptr(o.ParentImage)
		opts.TrackMem = criu.Ptr(true)
	}
	if o.LazyPages && o.StatusFd >= 0 {
		flags, err := unix.FcntlInt(uintptr(o.StatusFd), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("invalid --status-fd argument %d: %w", o.StatusFd, err)
		}
		if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
			return fmt.Errorf("invalid --status-fd argument %d: not writable", o.StatusFd)
		}
	}
	t := rpc.CriuReqType_DUMP
	if o.PreDump {
		t = rpc.CriuReqType_PRE_DUMP
	}
	req := &rpc.CriuReq{Type: &t, Opts: opts}
	if !o.PreDump {
		ext, err := externalMounts(cfg, pid)
		if err != nil {
			return err
		}
		for _, m := range ext {
			p := containerRel(cfg.Rootfs, m.Destination)
			opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: criu.Ptr(p), Val: criu.Ptr(p)})
		}
		// Masked files are /dev/null bound over them.
		for _, p := range cfg.MaskedPaths {
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/root/%s", pid, p))
			if err != nil || fi.IsDir() {
				continue
			}
			opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: criu.Ptr(p), Val: criu.Ptr("/dev/null")})
		}
		fds, err := stdioLinks(pid)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(fds) // a []string: cannot fail
		if err := os.WriteFile(filepath.Join(o.ImagesDirectory, descriptorsFile), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", descriptorsFile, err)
		}
		// criu leaves the content of the network namespace out (empty-ns,
		// as runc): note what restore must redo, lo's state.
		var ni netInfo
		if cfg.HasNewNamespace(specs.NetworkNamespace) && o.EmptyNs&unix.CLONE_NEWNET != 0 {
			if ni.LoopbackUp, err = loopbackUp(pid); err != nil {
				return err
			}
		}
		data, _ = json.Marshal(ni) // a struct of a bool: cannot fail
		if err := os.WriteFile(filepath.Join(o.ImagesDirectory, netInfoFile), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", netInfoFile, err)
		}
	}
	statusFd := o.StatusFd
	_, err = criu.Run(&criu.Request{
		Req:     req,
		LogDir:  logDir,
		LogFile: logFile,
		Notify: func(script string, _ int, fds []int) error {
			for _, fd := range fds {
				unix.Close(fd)
			}
			if script == "status-ready" && statusFd >= 0 {
				if _, err := unix.Write(statusFd, []byte{0}); err != nil {
					warnf("lazy-pages: tell --status-fd that the pages are ready: %v", err)
				}
				unix.Close(statusFd)
				statusFd = -1
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	if o.LeaveRunning || o.PreDump {
		return nil
	}
	// criu killed the container's processes; remove what is left.
	waitGone(pid, c.state.InitStart, 10*time.Second)
	return c.destroy()
}

// freezerPath is the cgroup criu freezes the container through.
func freezerPath(paths map[string]string) string {
	if p, ok := paths["freezer"]; ok {
		return p
	}
	if cgutil.IsUnifiedMode() {
		return paths[""]
	}
	return ""
}

// stdioLinks reads what fds 0, 1 and 2 of pid are ("pipe:[123]",
// "/dev/null", ...).
func stdioLinks(pid int) ([]string, error) {
	out := make([]string, 3)
	for i := range out {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read stdio of the container's init: %w", err)
		}
		out[i] = l
	}
	return out, nil
}
