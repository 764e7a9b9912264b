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

	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
	"github.com/rt-runtime/rt/libcontainer/netdev"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
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
	// Start releases the init at the end of Create, as `run` does without
	// a terminal: Start's checks are Create's own (under the same lock),
	// and the state is written once, while the init execs, not before.
	Start bool
}

// Create sets a container up and leaves its init waiting for Start. It
// checks its inputs, takes the state directory, then runs the steps of
// (*creation).steps in order; each step registers the undoing of what it
// made, and a failure at any step undoes everything, in reverse order.
func Create(o *CreateOpts) (*Container, error) {
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
	cr := &creation{o: o, cfg: cfg, cgroupFD: -1}
	if cfg.IntelRdt != nil {
		// As runc: an error where the host has no resctrl.
		root, err := intelrdt.Root()
		if err != nil {
			return nil, err
		}
		cr.rdtRoot = root
	}
	if cfg.Process != nil {
		// The init raises ambient capabilities after start, when its log
		// no longer reaches rt: what it cannot raise is said now, as
		// runc's create logs it.
		for _, name := range capabilities.AmbientUnraisable(cfg.Process.Capabilities) {
			warnf("can't raise ambient capability %s: %v", name, unix.EPERM)
		}
	}
	// The owner's name (the passwd file read and parsed: 30-80 us) is
	// looked up while the state dir and the cgroups are made.
	owner := make(chan string, 1)
	go func() { owner <- ownerName() }()
	cr.owner = owner
	d, err := newStateDir(o.Root, cfg.ID)
	if err != nil {
		return nil, err
	}
	cr.dir = d
	if err := cr.run(); err != nil {
		if se := (*startError)(nil); errors.As(err, &se) {
			return nil, se.err
		}
		return nil, fmt.Errorf("create container %q: %w", cfg.ID, err)
	}
	return cr.c, nil
}

// creation is one Create in progress: what its steps have made so far.
type creation struct {
	o   *CreateOpts
	cfg *configs.Config
	dir *lockedDir
	// undo holds, in the order things were made, how to unmake them.
	undo []func()
	// done holds what to release whether create succeeds or not.
	done []func()

	fifo     *os.File        // O_PATH handle of the exec fifo, for the init
	mgr      cgroups.Manager // nil when rootless goes without a cgroup
	cgroupFD int             // cgroup v2 (or a hybrid host's cgroup2 one): the init is born in it
	// setupInC: the C init applies the set-up itself (rootfs.Compile).
	setupInC bool
	// cgroupTasks: cgroup v1 `tasks` files the C stage moves itself into
	// (prepareSelfJoin); selfJoinAll: they are all its cgroups.
	cgroupTasks []string
	selfJoinAll bool
	rdtRoot     string
	rdt         *intelrdt.Group
	st          *State
	owner       <-chan string // the name of rt's user (ownerName)
	proc        *initProc
	c           *Container
	ociState    *specs.State // what the hooks of create see
	// planc delivers the container process's plan (computed while the
	// init starts).
	planc <-chan planResult
}

// planResult is a process plan's frame, or why there is none.
type planResult struct {
	frame []byte
	host  *rootfs.HostView // with the set-up in C
	err   error
}

type createStep struct {
	name string
	run  func() error
}

// steps are the steps of a create, in order.
func (cr *creation) steps() []createStep {
	return []createStep{
		{"bind rootfs", cr.bindRootfs},
		{"make exec fifo", cr.makeExecFifo},
		{"prepare cgroup", cr.prepareCgroup},
		{"spawn init", cr.spawnInit},
		{"note init", cr.noteInit},
		{"configure init", cr.configureInit},
		// Written while the init does its set-up (its cgroups are
		// recorded already: a crash before this leaves nothing that
		// delete --force cannot find).
		{"record init", cr.recordInit},
		{"wait for init", cr.awaitInit},
		{"apply limits", cr.applyLimits},
		cr.lastStep(),
	}
}

func (cr *creation) lastStep() createStep {
	if cr.o.Start {
		return createStep{"start", cr.start}
	}
	return createStep{"commit", cr.commit}
}

func (cr *creation) run() (err error) {
	cr.undo = append(cr.undo, func() { warnIf("remove state dir", removeStateDir(cr.dir.path)) })
	defer func() {
		if err != nil {
			for i := len(cr.undo) - 1; i >= 0; i-- {
				cr.undo[i]()
			}
			// A container that failed to start (Start: its process or a
			// poststart hook failed) was created: it is deleted as `rt
			// delete --force` deletes one, its poststop hooks included.
			if se := (*startError)(nil); errors.As(err, &se) {
				cr.c.runPoststop(cr.cfg.Hooks.Poststop)
			}
		}
		for _, f := range cr.done {
			f()
		}
		cr.dir.unlock()
	}()
	for _, s := range cr.steps() {
		t := time.Now()
		err := s.run()
		DebugPhase("create "+cr.cfg.ID+": "+s.name, t)
		if err != nil {
			return err
		}
	}
	return nil
}

// bindRootfs: without a mount namespace, the rootfs is bound onto itself
// so that delete can detach everything stacked there (see hostmounts.go).
func (cr *creation) bindRootfs() error {
	if !needsRootfsBind(cr.cfg) {
		return nil
	}
	cr.undo = append(cr.undo, func() {
		if err := unbindRootfs(cr.dir.path); err != nil {
			warnf("%v", err)
		}
	})
	return bindRootfs(cr.dir.path, cr.cfg.Rootfs)
}

// makeExecFifo makes the fifo the init waits on until start.
func (cr *creation) makeExecFifo() error {
	fifoPath := filepath.Join(cr.dir.path, execFifoFile)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	// The umask must not narrow it: an init in a user namespace is
	// "other" to this file.
	if err := os.Chmod(fifoPath, 0o622); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	cr.fifo = fifo
	cr.done = append(cr.done, func() { fifo.Close() })
	return nil
}

// prepareCgroup resolves the container's cgroup, records it in the state
// before anything is made (a create killed from here on leaves a state
// that delete cleans up), and on cgroup v2 makes it so that the init is
// born in it.
func (cr *creation) prepareCgroup() error {
	m, err := cgroups.New(&cr.cfg.Cgroup, cr.cfg.ID)
	if err != nil {
		return err
	}
	// Refused before anything is placed in it, and not removed on the
	// way out: a cgroup in use is not the container's to destroy.
	if err := checkCgroupUnused(m); err != nil {
		return err
	}
	cr.mgr = m
	cr.undo = append(cr.undo, func() {
		if cr.mgr != nil {
			warnIf("remove the container's cgroup", cr.mgr.Destroy())
		}
	})
	cr.st = &State{
		ID:            cr.cfg.ID,
		Creating:      true,
		Created:       time.Now().UTC(),
		Owner:         cr.ownerName(),
		CgroupPaths:   cgroupPaths(cr.mgr),
		SystemdCgroup: systemdCgroup(&cr.cfg.Cgroup, cr.cfg.ID),
		Config:        cr.cfg,
	}
	if cr.rdtRoot != "" {
		// Recorded before it is made, as the cgroups are.
		cr.st.IntelRdt = intelrdt.Plan(cr.rdtRoot, cr.cfg.IntelRdt, cr.cfg.ID)
	}
	// config.json comes with the init's pid (recordInit): see
	// writeStateOnly.
	if err := writeStateOnly(cr.dir.path, cr.st); err != nil {
		return err
	}
	cf, ok := cr.mgr.(cgroups.FDOpener)
	if !ok {
		return cr.prepareSelfJoin()
	}
	if err := cr.mgr.Apply(0); err != nil {
		return cr.cgroupFailed(err)
	}
	fd, err := cf.CgroupFD()
	if err != nil {
		return err
	}
	cr.cgroupFD = fd
	cr.done = append(cr.done, func() { unix.Close(fd) })
	return nil
}

// prepareSelfJoin (cgroup v1, cgroupfs driver) makes the container's
// cgroups now, so that the C stage moves itself into them (see exec's
// spawn: a parent's move of another process waits for an RCU grace
// period), and opens a hybrid host's cgroup2 one for the init to be born
// in. With the systemd driver the unit is made with the init's pid, while
// the C stage runs, as before.
func (cr *creation) prepareSelfJoin() error {
	if cr.cfg.Cgroup.Systemd {
		return nil
	}
	tasks, unified, ok, err := cgroups.SelfJoinFiles(cr.mgr.Paths())
	if err != nil || !ok {
		return err
	}
	if err := cr.mgr.Apply(0); err != nil {
		return cr.cgroupFailed(err)
	}
	if cr.mgr == nil {
		return nil
	}
	cr.cgroupTasks, cr.selfJoinAll = tasks, unified == ""
	if unified != "" {
		fd, err := unix.Open(unified, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open cgroup %s: %w", unified, err)
		}
		cr.cgroupFD = fd
		cr.done = append(cr.done, func() { unix.Close(fd) })
	}
	return nil
}

// cgroupFailed turns a permission error into running without cgroups when
// that is allowed (rootless, no limits asked).
func (cr *creation) cgroupFailed(err error) error {
	if cr.o.IgnoreCgroupPermission && isPermission(err) && !hasLimits(cr.cfg.Cgroup.Resources) {
		logrus.Debugf("rootless: no access to the container's cgroup, running without: %v", err)
		warnIf("remove the container's cgroup", cr.mgr.Destroy())
		cr.mgr = nil
		return nil
	}
	return err
}

// placeInCgroup puts the C stage (pid) in the container's cgroups and
// resctrl group while it enters its namespaces.
func (cr *creation) placeInCgroup(pid int, bornInCgroup bool) error {
	if !bornInCgroup && cr.mgr != nil && !cr.selfJoinAll {
		// (Born in a hybrid host's cgroup2 one, the C stage moved itself
		// into the v1 ones; if clone3 could not, all are written again.)
		if err := cr.mgr.Apply(pid); err != nil {
			if err := cr.cgroupFailed(err); err != nil {
				return err
			}
		}
	}
	if cr.rdtRoot != "" {
		// The C stage is one thread: what it forks follows it.
		g, err := intelrdt.Apply(cr.rdtRoot, cr.cfg.IntelRdt, cr.cfg.ID, pid)
		if err != nil {
			return err
		}
		cr.rdt = g
		cr.undo = append(cr.undo, func() { warnIf("remove the container's resctrl group", g.Destroy()) })
	}
	return nil
}

// spawnInit starts `rt init` and drives its C stage until the
// container's init process exists.
func (cr *creation) spawnInit() error {
	extra := make([]*os.File, cr.o.PreserveFds)
	for i := range extra {
		extra[i] = os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i))
	}
	// The set-up applied by the C init itself when it can be (no Go
	// set-up child: rootfs.Compile), else by the Go set-up child.
	why := rootfs.CompileReason(cr.cfg)
	if why != "" {
		logrus.Debugf("create %s: set-up in Go: %s", cr.cfg.ID, why)
	}
	cr.setupInC = why == ""
	// The container's process plan, resolved on the host (the seccomp
	// profile compiled) while the init starts and enters its namespaces;
	// configureInit sends it to the C init (nsenter/pid1.c).
	c := make(chan planResult, 1)
	cr.planc = c
	go func() {
		var r planResult
		if cr.setupInC {
			// What the set-up's compilation needs of the host, while
			// the init starts (sendSetup adds the init's cgroups).
			if r.host, r.err = rootfs.HostViewOf(cr.cfg); r.err != nil {
				c <- r
				return
			}
		}
		// stateDir: the compiled filter is kept for the container's
		// execs (cachedSeccomp).
		p, err := processPlan(cr.cfg, cr.cfg.Process, planOpts{preserveFds: cr.o.PreserveFds, stateDir: cr.dir.path})
		if err == nil {
			r.frame, err = p.Encode()
		}
		r.err = err
		c <- r
	}()
	b := bootstrapOf(cr.cfg.Namespaces, cr.cfg.TimeOffsets, false)
	b.Pid1 = true
	b.SetupInC = cr.setupInC
	b.CgroupTasks = cr.cgroupTasks
	bootstrap, err := b.Encode()
	if err != nil {
		return err
	}
	proc, err := spawnInit(&spawnOpts{
		bootstrap:     bootstrap,
		extraFiles:    extra,
		fifo:          cr.fifo,
		consoleSocket: cr.o.ConsoleSocket,
		io:            cr.o.IO,
		uidMaps:       cr.cfg.UIDMappings,
		gidMaps:       cr.cfg.GIDMappings,
		cgroupFD:      cr.cgroupFD,
		watchCgroup:   cr.mgr,
		placeInCgroup: cr.placeInCgroup,
		initHooks:     hooks.TotalTimeout(cr.cfg.Hooks.CreateContainer),
		// With the set-up in C the init never returns into Go: the
		// small rt-stage program serves, as for exec.
		stage: cr.setupInC,
	})
	if err != nil {
		return err
	}
	cr.proc = proc
	cr.undo = append(cr.undo, proc.kill)
	return nil
}

// noteInit notes the init's pid (with its start time) in the state, and
// does what the parent does to the init before its set-up starts.
func (cr *creation) noteInit() error {
	pid := cr.proc.pid
	start, _, err := procStartTime(pid)
	if err != nil {
		return fmt.Errorf("read init process start time: %w", err)
	}
	if cr.cfg.Process.OOMScoreAdj != nil {
		if err := system.SetOOMScoreAdj(pid, *cr.cfg.Process.OOMScoreAdj); err != nil {
			return err
		}
	}
	if len(cr.cfg.NetDevices) > 0 {
		// As runc 1.3: from the parent, once the init's network namespace
		// exists and before any hook or the init's own set-up runs.
		if err := moveNetDevices(pid, cr.cfg.NetDevices); err != nil {
			return err
		}
	}
	cr.st.InitPid, cr.st.InitStart = pid, start
	cr.st.CgroupPaths = cgroupPaths(cr.mgr) // none if rootless went without
	cr.st.IntelRdt = cr.rdt
	cr.c = &Container{root: cr.o.Root, dir: cr.dir.path, state: cr.st}
	return nil
}

// recordInit writes the state with the init's pid, and config.json the
// first time (writeStateOnly), while the init does its set-up.
func (cr *creation) recordInit() error {
	return writeState(cr.dir.path, cr.st)
}

// sendPlan sends the C init its process plan and the startContainer
// hooks it runs (the frames after Pid, read before its set-up child reads
// the config).
func (cr *creation) sendPlan() error {
	r := <-cr.planc
	if r.err != nil {
		return r.err
	}
	if err := cr.proc.conn.Send(initproto.PlanMsg, r.frame[initproto.HeaderSize:]); err != nil {
		return cr.proc.failed("send the process plan to init", err)
	}
	if hs := cr.cfg.Hooks.StartContainer; len(hs) > 0 {
		// The state with the init's pid as the container sees it (as
		// runc's init gives it to them).
		st := *cr.c.ociState(Created)
		pid, err := nsPid(cr.proc.pid)
		if err != nil {
			return fmt.Errorf("startContainer hooks: pid of the init: %w", err)
		}
		st.Pid = pid
		payload, err := startHooksPayload(hs, &st)
		if err != nil {
			return err
		}
		if err := cr.proc.conn.Send(initproto.StartHooks, payload); err != nil {
			return cr.proc.failed("send the startContainer hooks to init", err)
		}
	}
	if cr.setupInC {
		return cr.sendSetup(r.host)
	}
	return nil
}

// sendSetup sends the C init the container's set-up (rootfs.Compile),
// which it applies itself: no Go set-up child.
func (cr *creation) sendSetup(host *rootfs.HostView) error {
	var cgs, createHooks []byte
	var err error
	if host.NeedsInitCgroups() {
		if cgs, err = os.ReadFile("/proc/" + strconv.Itoa(cr.proc.pid) + "/cgroup"); err != nil {
			return fmt.Errorf("read the init's cgroups: %w", err)
		}
	}
	if hs := cr.cfg.Hooks.CreateContainer; len(hs) > 0 {
		// The state with the init's pid as the container sees it, as the
		// Go set-up child gave them.
		st := *cr.c.ociState(Created)
		if st.Pid, err = nsPid(cr.proc.pid); err != nil {
			return fmt.Errorf("createContainer hooks: pid of the init: %w", err)
		}
		if createHooks, err = hooksPayload("createContainer", hs, &st); err != nil {
			return err
		}
	}
	frame, err := rootfs.Compile(cr.cfg, host, string(cgs), createHooks).Encode()
	if err != nil {
		return err
	}
	if err := cr.proc.conn.Send(initproto.SetupPlan, frame[initproto.HeaderSize:]); err != nil {
		return cr.proc.failed("send the set-up to init", err)
	}
	logrus.Debugf("create %s: set-up in C (%d bytes)", cr.cfg.ID, len(frame))
	return nil
}

// configureInit sends the init its configuration and idmapped mounts.
func (cr *creation) configureInit() error {
	cfg := cr.cfg
	if err := cr.sendPlan(); err != nil {
		return err
	}
	// The hooks of create see the container as "created" (as crun and the
	// conformance suite have it): its namespaces and init exist.
	cr.ociState = cr.c.ociState(Created)
	if cr.setupInC {
		return nil // the C init has its set-up (sendSetup)
	}
	markSourceTrees(cfg)
	ic := &initConfig{
		Config:         initView(cfg),
		Process:        setupProcess(cfg.Process),
		HasParentHooks: len(cfg.Hooks.Prestart)+len(cfg.Hooks.CreateRuntime) > 0,
		State:          cr.ociState,
	}
	if err := cr.proc.sendConfig(ic); err != nil {
		return err
	}
	if !hasIDMapMounts(cfg) {
		return nil
	}
	idx, fds, err := idmapTrees(cfg, cr.proc.pid)
	if err == nil {
		err = cr.proc.sendIDMapTrees(idx, fds)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return err
}

// awaitInit answers the init's requests (the parent's hooks, the seccomp
// notify fd) until it is set up and waits for start.
func (cr *creation) awaitInit() error {
	cfg := cr.cfg
	_, err := cr.proc.serve(&initHandlers{
		hooks: func() error {
			if err := hooks.Run("prestart", cfg.Hooks.Prestart, cr.ociState); err != nil {
				return err
			}
			return hooks.Run("createRuntime", cfg.Hooks.CreateRuntime, cr.ociState)
		},
		seccomp: func(fd int) error {
			return seccomp.SendNotifyFd(cfg.Seccomp.ListenerPath, fd, cr.proc.pid, cfg.Seccomp.ListenerMetadata, *cr.ociState)
		},
	}, initproto.Ready)
	return cr.proc.watch.end(err)
}

// applyLimits writes the cgroup limits once the init is set up and parked
// on the exec fifo (as runc does): a tight pids or memory limit is the
// container's, not a limit on rt's own setup work.
func (cr *creation) applyLimits() error {
	if cr.cfg.Cgroup.Resources == nil || cr.mgr == nil {
		return nil
	}
	return cr.mgr.Set(cr.cfg.Cgroup.Resources)
}

// commit records the container as created and lets the init go on
// without rt.
func (cr *creation) commit() error {
	cr.detachInit()
	if err := writeState(cr.dir.path, cr.st); err != nil {
		return err
	}
	return cr.sendPidfd()
}

// start, for Create with Start: commit's work, but the init is released
// first and the state (no longer creating) written while it execs. A crash
// in between leaves a state that says creating, with no creator alive:
// delete --force removes it as any aborted create.
func (cr *creation) start() error {
	cr.detachInit()
	err := cr.c.start(func() error {
		if err := writeState(cr.dir.path, cr.st); err != nil {
			return err
		}
		return cr.sendPidfd()
	})
	if err != nil {
		return &startError{err: fmt.Errorf("start container %q: %w", cr.cfg.ID, err)}
	}
	return nil
}

// detachInit ends what ties the init to this create (its log pipe, the
// init socket) and marks the state no longer creating (not yet written).
func (cr *creation) detachInit() {
	// The init closed its log pipe before it started to wait for start.
	cr.proc.logs.wait(time.Second)
	cr.st.Creating = false
	cr.proc.conn.Close()
}

func (cr *creation) sendPidfd() error {
	if cr.o.PidfdSocket == nil {
		return nil
	}
	return sendPidfd(cr.o.PidfdSocket, cr.proc.pid)
}

// startError is a failure of Create's start step: returned as Start's
// would be, not as a create error.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

func moveNetDevices(pid int, devs map[string]specs.LinuxNetDevice) error {
	path := "/proc/" + strconv.Itoa(pid) + "/ns/net"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.netDevices: open %s: %w", path, err)
	}
	defer unix.Close(fd)
	return netdev.Move(fd, devs)
}

// ownerName is the name of rt's user, as Create looked it up (once)
// while it made the state dir, or looked up now.
func (cr *creation) ownerName() string {
	if cr.owner == nil {
		return ownerName()
	}
	return <-cr.owner
}

func ownerName() string {
	uid := os.Geteuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
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

// initView is the part of cfg the Go set-up child uses: what only the
// runtime side needs (cgroup limits, the hooks it runs itself, annotations,
// network devices, resctrl) and what the C init applies from the plan
// (seccomp, personality, memory policy, startContainer hooks) are left out.
// The child decodes it into setupWireConfig, which must carry every field
// kept here (TestSetupWireCarriesInitView).
func initView(cfg *configs.Config) *configs.Config {
	v := *cfg
	v.Cgroup.Resources = nil
	v.Annotations = nil
	v.NetDevices = nil
	v.IntelRdt = nil
	v.Seccomp = nil
	v.Personality = nil
	v.MemoryPolicy = nil
	v.Hooks = configs.Hooks{CreateContainer: cfg.Hooks.CreateContainer}
	v.Process = nil // sent once, as initConfig.Process
	return &v
}
