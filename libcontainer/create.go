package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
	"github.com/rt-runtime/rt/libcontainer/netdev"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
	"github.com/rt-runtime/rt/libcontainer/system"
)

// CreateOpts are the inputs of Create.
type CreateOpts struct {
	// Root is the state root (--root).
	Root   string
	Config *configs.Config
	IO     IO
	// ConsoleSocket is a connected unix socket that receives the pty
	// master when the process has a terminal.
	ConsoleSocket *os.File
	// PidfdSocket, if set, receives a pidfd of the container's init.
	PidfdSocket *os.File
	// PreserveFds is the number of fds after stdio passed through.
	PreserveFds int
	// IgnoreCgroupPermission (rootless): when rt may not create or join
	// the container's cgroups, run it without, as runc does, unless the
	// config asks for limits.
	IgnoreCgroupPermission bool
}

// Create sets a container up and leaves its init waiting for Start.
func Create(o *CreateOpts) (c *Container, retErr error) {
	cfg := o.Config
	if err := ValidateID(cfg.ID); err != nil {
		return nil, err
	}
	if cfg.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if !cfg.Process.Terminal && o.ConsoleSocket != nil {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	// Nothing rt inherited may reach the init or the hooks: only what is
	// passed explicitly (stdio, preserved fds, the init's own fds).
	if err := system.CloseExecFrom(3 + o.PreserveFds); err != nil {
		return nil, fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}
	rdtRoot := ""
	if cfg.IntelRdt != nil {
		// As runc: an error where the host has no resctrl.
		root, err := intelrdt.Root()
		if err != nil {
			return nil, err
		}
		rdtRoot = root
	}
	d, err := newStateDir(o.Root, cfg.ID)
	if err != nil {
		return nil, err
	}
	defer d.unlock()
	var (
		proc *initProc
		mgr  cgroups.Manager
		rdt  *intelrdt.Group
	)
	defer func() {
		if retErr == nil {
			return
		}
		if proc != nil {
			proc.kill()
		}
		if mgr != nil {
			mgr.Destroy()
		}
		if rdt != nil {
			rdt.Destroy()
		}
		if err := unbindRootfs(d.path); err != nil {
			warnf("%v", err)
		}
		os.RemoveAll(d.path)
		retErr = fmt.Errorf("create container %q: %w", cfg.ID, retErr)
	}()

	if needsRootfsBind(cfg) {
		if err := bindRootfs(d.path, cfg.Rootfs); err != nil {
			return nil, err
		}
	}
	fifoPath := filepath.Join(d.path, execFifoFile)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	// The umask must not narrow it: an init in a user namespace is
	// "other" to this file.
	if err := os.Chmod(fifoPath, 0o622); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()

	m, err := cgroups.New(&cfg.Cgroup, cfg.ID)
	if err != nil {
		return nil, err // already "cgroup: ..."
	}
	// Refused before anything is placed in it, and not removed on the
	// way out: a cgroup in use is not the container's to destroy.
	if err := checkCgroupUnused(m); err != nil {
		return nil, err
	}
	mgr = m
	// Record what will be made before making it: if rt is killed from
	// here on, `delete --force` finds the cgroups in the state.
	st := &State{
		ID:          cfg.ID,
		Creating:    true,
		Created:     time.Now().UTC(),
		Owner:       ownerName(),
		CgroupPaths: cgroupPaths(mgr),
		Config:      cfg,
	}
	if err := writeState(d.path, st); err != nil {
		return nil, err
	}
	// cgroupFailed turns a permission error into running without cgroups
	// when that is allowed (rootless, no limits asked).
	cgroupFailed := func(err error) error {
		if o.IgnoreCgroupPermission && isPermission(err) && !hasLimits(cfg.Cgroup.Resources) {
			logrus.Debugf("rootless: no access to the container's cgroup, running without: %v", err)
			mgr.Destroy()
			mgr = nil
			return nil
		}
		return fmt.Errorf("cgroup: %w", err)
	}
	// On cgroup v2 the cgroup is made first and the init is born in it.
	cgroupFD := -1
	if cf, ok := mgr.(interface{ CgroupFD() (int, error) }); ok {
		if err := mgr.Apply(0); err != nil {
			if err := cgroupFailed(err); err != nil {
				return nil, err
			}
		} else if cgroupFD, err = cf.CgroupFD(); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		} else {
			defer unix.Close(cgroupFD)
		}
	}
	extra := make([]*os.File, o.PreserveFds)
	for i := range extra {
		extra[i] = os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i))
	}
	bootstrap, err := bootstrapData(cfg.Namespaces, cfg.TimeOffsets, false)
	if err != nil {
		return nil, err
	}
	proc, err = spawnInit(&spawnOpts{
		bootstrap:     bootstrap,
		extraFiles:    extra,
		fifo:          fifo,
		consoleSocket: o.ConsoleSocket,
		io:            o.IO,
		uidMaps:       cfg.UIDMappings,
		gidMaps:       cfg.GIDMappings,
		cgroupFD:      cgroupFD,
		watchCgroup:   mgr,
		placeInCgroup: func(pid int, bornInCgroup bool) error {
			if !bornInCgroup && mgr != nil {
				if err := mgr.Apply(pid); err != nil {
					if err := cgroupFailed(err); err != nil {
						return err
					}
				}
			}
			if rdtRoot != "" {
				// The C stage is one thread: what it forks follows it.
				g, err := intelrdt.Apply(rdtRoot, cfg.IntelRdt, cfg.ID, pid)
				if err != nil {
					return err
				}
				rdt = g
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	start, _, err := procStartTime(proc.pid)
	if err != nil {
		return nil, fmt.Errorf("read init process start time: %w", err)
	}
	if cfg.Process.OOMScoreAdj != nil {
		if err := system.SetOOMScoreAdj(proc.pid, *cfg.Process.OOMScoreAdj); err != nil {
			return nil, err
		}
	}
	if len(cfg.NetDevices) > 0 {
		// As runc 1.3: from the parent, once the init's network namespace
		// exists and before any hook or the init's own set-up runs.
		if err := moveNetDevices(proc.pid, cfg.NetDevices); err != nil {
			return nil, err
		}
	}
	st.InitPid, st.InitStart = proc.pid, start
	st.CgroupPaths = cgroupPaths(mgr) // none if rootless went without
	st.IntelRdt = rdt
	c = &Container{root: o.Root, dir: d.path, state: st}
	if err := writeState(d.path, st); err != nil {
		return nil, err
	}
	// The hooks of create see the container as "created" (as crun and the
	// conformance suite have it): its namespaces and init exist.
	ociState := c.ociState(Created)
	ic := &initConfig{
		Config:         initView(cfg),
		Process:        cfg.Process,
		PreserveFds:    o.PreserveFds,
		HasParentHooks: len(cfg.Hooks.Prestart)+len(cfg.Hooks.CreateRuntime) > 0,
		State:          ociState,
	}
	if err := proc.sendConfig(ic); err != nil {
		return nil, err
	}
	if hasIDMapMounts(cfg) {
		idx, fds, err := idmapTrees(cfg, proc.pid)
		if err == nil {
			err = proc.sendIDMapTrees(idx, fds)
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
		if err != nil {
			return nil, err
		}
	}
	_, err = proc.serve(&initHandlers{
		hooks: func() error {
			if err := hooks.Run("prestart", cfg.Hooks.Prestart, ociState); err != nil {
				return err
			}
			return hooks.Run("createRuntime", cfg.Hooks.CreateRuntime, ociState)
		},
		seccomp: func(fd int) error {
			return seccomp.SendNotifyFd(cfg.Seccomp.ListenerPath, fd, proc.pid, cfg.Seccomp.ListenerMetadata, *ociState)
		},
	}, initproto.Ready)
	if err = proc.watch.end(err); err != nil {
		return nil, err
	}
	// Limits apply once the init is set up and parked on the exec fifo (as
	// runc does): a tight pids or memory limit is the container's, not a
	// limit on rt's own setup work.
	if cfg.Cgroup.Resources != nil && mgr != nil {
		if err := mgr.Set(cfg.Cgroup.Resources); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		}
	}
	st.Creating = false
	if err := writeState(d.path, st); err != nil {
		return nil, err
	}
	proc.conn.Close()
	if o.PidfdSocket != nil {
		if err := sendPidfd(o.PidfdSocket, proc.pid); err != nil {
			return nil, err
		}
	}
	if !proc.forked {
		// Our direct child: let it go on living after we exit.
		proc.cmd.Process.Release()
	}
	return c, nil
}

func moveNetDevices(pid int, devs map[string]specs.LinuxNetDevice) error {
	path := "/proc/" + strconv.Itoa(pid) + "/ns/net"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.netDevices: open %s: %w", path, err)
	}
	defer unix.Close(fd)
	return netdev.Move(fd, devs)
}

func ownerName() string {
	uid := os.Geteuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func hasIDMapMounts(cfg *configs.Config) bool {
	for _, m := range cfg.Mounts {
		if m.IDMap {
			return true
		}
	}
	return false
}

func cgroupPaths(m cgroups.Manager) map[string]string {
	if m == nil {
		return nil
	}
	return m.Paths()
}

// isPermission reports a permission error (EACCES, EPERM, EROFS).
func isPermission(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

// hasLimits reports whether r asks for anything but device rules (which
// a container without a cgroup of its own cannot be given either way).
func hasLimits(r *specs.LinuxResources) bool {
	if r == nil {
		return false
	}
	c := *r
	c.Devices = nil
	return !reflect.DeepEqual(c, specs.LinuxResources{})
}

// initView is the part of cfg the init uses: what only the runtime side
// needs (cgroup limits, the hooks it runs itself, annotations) is left out,
// which also spares the init the cost of decoding it.
func initView(cfg *configs.Config) *configs.Config {
	v := *cfg
	v.Cgroup.Resources = nil
	v.Annotations = nil
	v.Hooks = configs.Hooks{CreateContainer: cfg.Hooks.CreateContainer, StartContainer: cfg.Hooks.StartContainer}
	v.Process = nil // sent once, as initConfig.Process
	return &v
}
