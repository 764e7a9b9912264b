package libcontainer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/criu"
	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
	"github.com/rt-runtime/rt/libcontainer/system"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

// RestoreOpts are the inputs of Restore.
type RestoreOpts struct {
	// Root is the state root (--root).
	Root   string
	Config *configs.Config
	// IO is the restored process's new stdio: the pipes it had at
	// checkpoint time are re-attached to these.
	IO IO
	// ConsoleSocket receives the new pty master when the process has a
	// terminal.
	ConsoleSocket *os.File
	Criu          *CriuOpts
}

// Restore brings a checkpointed container back with CRIU as container
// cfg.ID: state directory, cgroup (the configured path), rootfs and
// external mounts, namespaces (new, or joined by path), stdio and console.
// On failure nothing is left: no state, no cgroup, no mount (all of
// restore's mounts live in a private mount namespace), no process.
func Restore(o *RestoreOpts) (c *Container, retErr error) {
	cfg := o.Config
	defer func() {
		if retErr != nil {
			retErr = fmt.Errorf("restore container %q: %w", cfg.ID, retErr)
		}
	}()
	if err := ValidateID(cfg.ID); err != nil {
		return nil, err
	}
	rdtRoot := ""
	if cfg.IntelRdt != nil {
		// As create: an error where the host has no resctrl.
		root, err := intelrdt.Root()
		if err != nil {
			return nil, err
		}
		rdtRoot = root
	}
	if _, err := criu.Find(); err != nil {
		return nil, err
	}
	co := o.Criu
	if co == nil || co.ImagesDirectory == "" {
		return nil, errors.New("invalid directory to restore checkpoint")
	}
	if cfg.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if !cfg.Process.Terminal && o.ConsoleSocket != nil {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	cgMode, err := cgroupMode(co.ManageCgroupsMode)
	if err != nil {
		return nil, err
	}
	descPath := filepath.Join(co.ImagesDirectory, descriptorsFile)
	data, err := os.ReadFile(descPath)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint image: %w", err)
	}
	var descriptors []string
	if err := json.Unmarshal(data, &descriptors); err != nil {
		return nil, fmt.Errorf("parse %s: %w", descPath, err)
	}
	var ni netInfo
	if data, err := os.ReadFile(filepath.Join(co.ImagesDirectory, netInfoFile)); err == nil {
		if err := json.Unmarshal(data, &ni); err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(co.ImagesDirectory, netInfoFile), err)
		}
	}
	if co.LazyPages {
		if err := criu.CheckFeatures(&rpc.CriuFeatures{LazyPages: criu.Ptr(true)}); err != nil {
			return nil, err
		}
	}
	if err := system.CloseExecFrom(3); err != nil {
		return nil, fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}

	d, err := newStateDir(o.Root, cfg.ID)
	if err != nil {
		return nil, err
	}
	defer d.unlock()
	var (
		mgr      cgroups.Manager
		rdt      *intelrdt.Group // planned, then made or joined
		restored int             // the restored init, once criu names it
	)
	defer func() {
		if retErr == nil {
			return
		}
		if restored > 0 {
			unix.Kill(restored, unix.SIGKILL)
			var ws unix.WaitStatus
			for i := 0; i < 100; i++ {
				if p, _ := unix.Wait4(restored, &ws, unix.WNOHANG, nil); p == restored || !pidExists(restored) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if mgr != nil {
			if pids, err := mgr.GetPids(); err == nil {
				for _, p := range pids {
					unix.Kill(p, unix.SIGKILL)
				}
			}
			warnIf("thaw the container's cgroup", mgr.Thaw())
			warnIf("remove the container's cgroup", destroyCgroup(mgr))
		}
		if rdt != nil {
			warnIf("remove the container's resctrl group", rdt.Destroy())
		}
		warnIf("remove state dir", removeStateDir(d.path))
	}()
	mgr, err = cgroups.New(&cfg.Cgroup, cfg.ID)
	if err != nil {
		return nil, err
	}

	const logFile = "restore.log"
	logDir := co.ImagesDirectory
	criuRoot := filepath.Join(d.path, "criu-root")
	opts := &rpc.CriuOpts{
		EvasiveDevices:    criu.Ptr(true),
		LogLevel:          criu.Ptr(int32(4)),
		LogFile:           criu.Ptr(logFile),
		RstSibling:        criu.Ptr(true),
		Root:              criu.Ptr(criuRoot),
		ManageCgroups:     criu.Ptr(true),
		ManageCgroupsMode: &cgMode,
		NotifyScripts:     criu.Ptr(true),
		ShellJob:          criu.Ptr(co.ShellJob),
		ExtUnixSk:         criu.Ptr(co.ExternalUnixConnections),
		TcpEstablished:    criu.Ptr(co.TCPEstablished),
		FileLocks:         criu.Ptr(co.FileLocks),
		EmptyNs:           criu.Ptr(co.EmptyNs),
		OrphanPtsMaster:   criu.Ptr(true),
		AutoDedup:         criu.Ptr(co.AutoDedup),
		LazyPages:         criu.Ptr(co.LazyPages),
	}
	if co.LsmProfile != "" {
		opts.LsmProfile = criu.Ptr(co.LsmProfile)
	}
	if co.LsmMountContext != "" {
		opts.LsmMountContext = criu.Ptr(co.LsmMountContext)
	}
	if co.WorkDirectory != "" {
		if err := os.MkdirAll(co.WorkDirectory, 0o700); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		logDir = co.WorkDirectory
	}
	criuConfigFile(cfg, opts)

	// Namespaces joined by path: net and pid are criu's "external"
	// namespaces, handed over as inherited fds; the others are joined.
	var extra []*os.File
	defer func() {
		for _, f := range extra {
			f.Close()
		}
	}()
	for _, ns := range cfg.Namespaces {
		if ns.Path == "" {
			continue
		}
		switch ns.Type {
		case specs.NetworkNamespace, specs.PIDNamespace:
			f, err := os.Open(ns.Path)
			if err != nil {
				return nil, fmt.Errorf("linux.namespaces: %s namespace %s: %w", ns.Type, ns.Path, err)
			}
			opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{
				Key: criu.Ptr(criuNsKey(ns.Type)),
				Fd:  criu.Ptr(int32(criu.FirstExtraFd + len(extra))),
			})
			extra = append(extra, f)
		case specs.CgroupNamespace:
			return nil, fmt.Errorf("linux.namespaces: criu cannot join an existing cgroup namespace (%s)", ns.Path)
		default:
			opts.JoinNs = append(opts.JoinNs, &rpc.JoinNamespace{Ns: criu.Ptr(nsProcName[ns.Type]), NsFile: criu.Ptr(ns.Path)})
		}
	}
	for i, s := range descriptors {
		if strings.Contains(s, "pipe:") {
			opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{Key: criu.Ptr(s), Fd: criu.Ptr(int32(i))})
		}
	}
	if len(cfg.MaskedPaths) > 0 {
		opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: criu.Ptr("/dev/null"), Val: criu.Ptr("/dev/null")})
	}

	st := &State{
		ID:      cfg.ID,
		Created: time.Now().UTC(),
		Owner:   ownerName(),
		Config:  cfg,
	}
	c = &Container{root: o.Root, dir: d.path, state: st}
	ociState := func(pid int) *specs.State {
		return &specs.State{Version: specs.Version, ID: cfg.ID, Status: specs.StateCreating, Pid: pid,
			Bundle: cfg.Bundle, Annotations: cfg.Annotations}
	}
	t := rpc.CriuReqType_RESTORE
	req := &criu.Request{
		Req:        &rpc.CriuReq{Type: &t, Opts: opts},
		Stdin:      o.IO.Stdin,
		Stdout:     o.IO.Stdout,
		Stderr:     o.IO.Stderr,
		LogDir:     logDir,
		LogFile:    logFile,
		ExtraFiles: extra,
		Started: func(pid int) error {
			// criu (and so what it restores) runs in the container's
			// cgroup, created at the configured path, and resctrl
			// group. Both are in the state before they are made (as in
			// create): a restore killed from here on leaves a state
			// that delete --force cleans up.
			st.CgroupPaths = mgr.Paths()
			if rdtRoot != "" {
				rdt = intelrdt.Plan(rdtRoot, cfg.IntelRdt, cfg.ID)
				st.IntelRdt = rdt
			}
			if err := writeState(d.path, st); err != nil {
				return err
			}
			if err := mgr.Apply(pid); err != nil {
				return err
			}
			if cfg.Cgroup.Resources != nil {
				if err := mgr.Set(cfg.Cgroup.Resources); err != nil {
					return err
				}
			}
			if rdtRoot != "" {
				g, err := intelrdt.Apply(rdtRoot, cfg.IntelRdt, cfg.ID, pid)
				if err != nil {
					return err
				}
				rdt = g
				st.IntelRdt = g
			}
			st.CgroupPaths = mgr.Paths()
			if err := writeState(d.path, st); err != nil {
				return err
			}
			roots, err := cgroupRoots(pid)
			if err != nil {
				return err
			}
			opts.CgRoot = roots
			// External mounts, their sources as the host has them now.
			ext, err := externalMounts(cfg, pid)
			if err != nil {
				return err
			}
			for _, m := range ext {
				p := containerRel(cfg.Rootfs, m.Destination)
				opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: criu.Ptr(p), Val: criu.Ptr(m.Source)})
			}
			return nil
		},
		Notify: func(script string, pid int, fds []int) error {
			defer func() {
				for _, fd := range fds {
					unix.Close(fd)
				}
			}()
			switch script {
			case "setup-namespaces":
				if ni.LoopbackUp && cfg.HasNewNamespace(specs.NetworkNamespace) && co.EmptyNs&unix.CLONE_NEWNET != 0 {
					// criu made the network namespace empty: lo comes
					// back up, as it was, before sockets are restored.
					if err := setLoopbackUp(pid); err != nil {
						return err
					}
				}
				s := ociState(pid)
				if err := hooks.Run("prestart", cfg.Hooks.Prestart, s); err != nil {
					return err
				}
				return hooks.Run("createRuntime", cfg.Hooks.CreateRuntime, s)
			case "post-restore":
				restored = pid
				start, _, err := procStartTime(pid)
				if err != nil {
					return fmt.Errorf("read restored init's start time: %w", err)
				}
				st.InitPid, st.InitStart = pid, start
				if cfg.NamespaceOf(specs.TimeNamespace) == nil && inOwnTimeNS(pid) {
					// criu restores the process into a time namespace of
					// its own: exec must join it too.
					cfg.Namespaces = append(cfg.Namespaces, configs.Namespace{Type: specs.TimeNamespace})
					if err := writeConfig(d.path, cfg); err != nil {
						return err
					}
				}
				return writeState(d.path, st)
			case "orphan-pts-master":
				if len(fds) == 0 {
					return errors.New("no pty master received")
				}
				if o.ConsoleSocket == nil {
					return errors.New("the restored process has a terminal but no console socket was given (--console-socket)")
				}
				master := os.NewFile(uintptr(fds[0]), "/dev/ptmx")
				fds = fds[1:]
				defer master.Close()
				return utils.SendConsole(o.ConsoleSocket, master)
			}
			return nil
		},
	}
	if err := inPrivateMountNS(func() error {
		// The image and work directories are opened in this namespace:
		// criu works (and mounts) in its work directory, which must be
		// a mount of its own namespace.
		imageDir, err := os.Open(co.ImagesDirectory)
		if err != nil {
			return fmt.Errorf("image directory: %w", err)
		}
		defer imageDir.Close()
		opts.ImagesDirFd = criu.Ptr(int32(imageDir.Fd()))
		if co.WorkDirectory != "" {
			wd, err := os.Open(co.WorkDirectory)
			if err != nil {
				return fmt.Errorf("work directory: %w", err)
			}
			defer wd.Close()
			opts.WorkDirFd = criu.Ptr(int32(wd.Fd()))
		}
		// criu wants its root to be a mount point whose parent is not
		// over-mounted: the rootfs bound on a directory of the state dir.
		if err := os.Mkdir(criuRoot, 0o755); err != nil {
			return fmt.Errorf("criu root: %w", err)
		}
		if err := unix.Mount(cfg.Rootfs, criuRoot, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind rootfs %s: %w", cfg.Rootfs, err)
		}
		if err := rootfs.PrepareRestoreMounts(cfg.Rootfs, cfg); err != nil {
			return err
		}
		_, err = criu.Run(req)
		return err
	}); err != nil {
		return nil, err
	}
	// Only the mount point criu restored into; it goes with the state dir
	// on delete if it cannot go now.
	warnIf("remove criu's root mount point", os.Remove(criuRoot))
	if restored == 0 {
		return nil, errors.New("criu did not report the restored process")
	}
	if cfg.Process.NoNewPrivileges && !noNewPrivs(restored) {
		// Older criu (3.17) restores a process without its no_new_privs
		// bit: refuse rather than run it with less than its config says.
		return nil, errors.New("process.noNewPrivileges: criu restored the process without no_new_privs (a newer criu restores it)")
	}
	return c, nil
}

// inPrivateMountNS runs fn on an OS thread of its own in a new, private
// mount namespace, so that no mount made there reaches the host. The
// thread is discarded afterwards (never unlocked), and the namespace dies
// with it and with the processes fn started there.
func inPrivateMountNS(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- fmt.Errorf("make mounts private: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// cgroupRoots tells criu where the restored cgroups go: below pid's
// (criu's own, placed in the container's cgroup) in every hierarchy.
func cgroupRoots(pid int) ([]*rpc.CgroupRoot, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read criu's cgroups: %w", err)
	}
	defer f.Close()
	var out []*rpc.CgroupRoot
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out = append(out, &rpc.CgroupRoot{Ctrl: criu.Ptr(""), Path: criu.Ptr(parts[2])})
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			out = append(out, &rpc.CgroupRoot{Ctrl: criu.Ptr(ctrl), Path: criu.Ptr(parts[2])})
		}
	}
	return out, s.Err()
}

// inOwnTimeNS reports whether pid is in another time namespace than rt.
func inOwnTimeNS(pid int) bool {
	a, err1 := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/time")
	b, err2 := os.Readlink("/proc/self/ns/time")
	return err1 == nil && err2 == nil && a != b
}

func pidExists(pid int) bool {
	return unix.Kill(pid, 0) == nil
}

// destroyCgroup removes a cgroup, retrying (bounded) while its last
// processes exit; the last failure is returned.
func destroyCgroup(m cgroups.Manager) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = m.Destroy(); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// noNewPrivs reports whether pid has its no_new_privs bit set.
func noNewPrivs(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "NoNewPrivs:"); ok {
			return strings.TrimSpace(v) == "1"
		}
	}
	return false
}
