package libcontainer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/stagebin"
	"github.com/rt-runtime/rt/libcontainer/system"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

// initConfig is what the Go part of `rt init` receives from the parent.
type initConfig struct {
	Config  *configs.Config `json:"config"`
	Process *specs.Process  `json:"process"`
	// HasParentHooks: the init must stop after its mounts for the parent's
	// prestart/createRuntime hooks.
	HasParentHooks bool `json:"has_parent_hooks,omitempty"`
	// State is the OCI state the init passes to hooks it runs.
	State *specs.State `json:"state,omitempty"`
}

// hasIDMapMounts reports whether the parent sends the init detached trees
// (initproto.IDMapTrees, right after the config): idmapped mounts, and
// bind sources it cloned for a user namespace.
func hasIDMapMounts(cfg *configs.Config) bool {
	for _, m := range cfg.Mounts {
		if m.IDMap || m.SourceTree {
			return true
		}
	}
	return false
}

// IO is the stdio the container's process gets.
type IO struct {
	Stdin, Stdout, Stderr *os.File
}

// spawnOpts describes one `rt init` to start.
type spawnOpts struct {
	bootstrap     []byte
	extraFiles    []*os.File // preserved fds (become 3, 4, ...)
	fifo          *os.File   // nil for exec
	consoleSocket *os.File
	io            IO
	// placeInCgroup places the C stage in the container's cgroups once
	// its pid is known, in parallel with the C stage, which waits for
	// that (CgroupOK) before it unshares its cgroup namespace and forks.
	// Nil with late placement (BootstrapData.LateCgroup).
	placeInCgroup func(pid int, bornInCgroup bool) error
	// cgroupFD, if >= 0, is the container's cgroup2 cgroup (v2, or exec on a
	// hybrid host): the init is born
	// in it (clone3 CLONE_INTO_CGROUP) where the kernel allows.
	cgroupFD int
	uidMaps  []specs.LinuxIDMapping
	gidMaps  []specs.LinuxIDMapping
	// watchCgroup, if set, is the cgroup the process is placed in: while
	// the parent waits on the process, a freeze of it ends the wait.
	watchCgroup cgroups.Manager
	// affinity (exec): its initial CPU affinity is set while the C stage
	// is one thread, before it joins the cgroup; the final one by the init.
	affinity *specs.CPUAffinity
	// planFrame, if set (exec), gives the PlanMsg frame, sent as soon as
	// the C stage may go on (after CgroupOK): the frame waits in the
	// socket until the forked child reads it, which saves the child a
	// round trip through the parent after its pid.
	planFrame func() ([]byte, error)
	// initHooks is how long the init may spend running hooks itself
	// (createContainer) between two of its messages: added to
	// InitAnswerBound.
	initHooks time.Duration
	// stage (exec, plan mode: the C stage never returns into Go) runs
	// the embedded rt-stage program, when rt has it, instead of rt.
	stage bool
}

// initProc is a started `rt init`.
type initProc struct {
	cmd  *initChild
	conn *initproto.Conn
	// pid is the container process's host pid (after the C stage's fork).
	pid int
	// forked: the C stage forked, and cmd's process has exited.
	forked bool
	// watch bounds the waits on the process (see watchFrozen).
	watch *frozenWatch
	// logs forwards the init's log lines (see forwardLogs).
	logs *logForwarder
}

// kill stops the init for good and reaps what is ours.
func (p *initProc) kill() {
	p.watch.end(nil)
	defer p.logs.stop()
	pidfd := -1
	if p.forked && p.pid > 0 {
		// Not our child: a pidfd tells when it is gone.
		pidfd, _ = unix.PidfdOpen(p.pid, 0) // gone already (ESRCH): nothing to wait for
	}
	if p.pid > 0 {
		unix.Kill(p.pid, unix.SIGKILL)
	}
	if p.cmd != nil {
		p.cmd.kill()
		p.cmd.wait()
	}
	if pidfd >= 0 {
		// Wait (bounded) until it has exited, so that its cgroup can be
		// removed: the end of a pid namespace's init can take a while.
		waitPidfd(pidfd, 5*time.Second)
		unix.Close(pidfd)
		// Reap it if it is our child (we are its subreaper in `run`).
		var ws unix.WaitStatus
		unix.Wait4(p.pid, &ws, unix.WNOHANG, nil)
	}
	p.conn.Close()
}

// bootstrapOf returns the C stage's instructions (see initproto), to
// encode.
func bootstrapOf(nss []configs.Namespace, timeOffsets map[string]specs.LinuxTimeOffset, lateCgroup bool) *initproto.BootstrapData {
	b := &initproto.BootstrapData{LateCgroup: lateCgroup, NonDumpable: true}
	for _, ns := range joinOrder(nss) {
		f := nsCloneFlag(ns.Type)
		if ns.Path == "" {
			b.CloneFlags |= f
			continue
		}
		b.Joins = append(b.Joins, initproto.NsJoin{Type: f, Path: ns.Path})
	}
	for clock, off := range timeOffsets {
		id := unix.CLOCK_MONOTONIC
		if clock == "boottime" {
			id = unix.CLOCK_BOOTTIME
		}
		b.TimeOffsets = append(b.TimeOffsets, initproto.TimeOffset{Clock: id, Secs: off.Secs, Nanosecs: off.Nanosecs})
	}
	return b
}

// runcJoinOrder is the order runc joins namespaces by path in (its
// configs.NamespaceTypes): the user namespace first, which grants the
// rights for the others, the mount namespace late, after which host paths
// may no longer resolve.
var runcJoinOrder = []specs.LinuxNamespaceType{
	specs.UserNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace,
	specs.PIDNamespace, specs.MountNamespace, specs.CgroupNamespace, specs.TimeNamespace,
}

// joinOrder returns nss in runc's join order, whatever the config's order.
func joinOrder(nss []configs.Namespace) []configs.Namespace {
	out := make([]configs.Namespace, 0, len(nss))
	for _, t := range runcJoinOrder {
		for _, ns := range nss {
			if ns.Type == t {
				out = append(out, ns)
			}
		}
	}
	return out
}

func nsCloneFlag(t specs.LinuxNamespaceType) uintptr {
	switch t {
	case specs.PIDNamespace:
		return unix.CLONE_NEWPID
	case specs.NetworkNamespace:
		return unix.CLONE_NEWNET
	case specs.MountNamespace:
		return unix.CLONE_NEWNS
	case specs.IPCNamespace:
		return unix.CLONE_NEWIPC
	case specs.UTSNamespace:
		return unix.CLONE_NEWUTS
	case specs.UserNamespace:
		return unix.CLONE_NEWUSER
	case specs.CgroupNamespace:
		return unix.CLONE_NEWCGROUP
	case specs.TimeNamespace:
		return unix.CLONE_NEWTIME
	}
	return 0
}

// initExe returns the program to start as the C stage: rt-stage (a
// sealed memfd) for a stage that never returns into Go, when rt embeds
// it, else rt's own sealed binary.
func initExe(stage bool) (*os.File, error) {
	if !stage || len(stagebin.Binary) == 0 {
		return sealedExe()
	}
	logrus.Debugf("init: C stage: rt-stage (%d bytes, sealed memfd)", len(stagebin.Binary))
	return stageExe()
}

// InitAnswerBound is how long rt waits for each message of a container's
// init (its C stage and set-up: joining namespaces, mounts, pivot_root),
// plus the timeouts of the hooks the init runs itself: past it, the init
// is killed and the command fails with initproto.ErrNoAnswer. Generous:
// the set-up takes milliseconds; an init that sends nothing for two
// minutes is stuck (runc waits for ever). cmd/rt sets it from
// RT_INIT_TIMEOUT.
var InitAnswerBound = 2 * time.Minute

// earlyBootstrapMax is the largest bootstrap written before the C stage
// starts: far below a unix stream socket's smallest default buffer.
const earlyBootstrapMax = 16 << 10

// spawnInit starts `rt init` from the sealed binary and drives the C stage
// until the container process's pid is known.
func spawnInit(o *spawnOpts) (*initProc, error) {
	exe, err := initExe(o.stage)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	parent, child, err := utils.SocketPair("init-parent", "init-child")
	if err != nil {
		return nil, fmt.Errorf("init socketpair: %w", err)
	}
	defer child.Close()

	cmd := &childCmd{
		Exe:    exe,
		Args:   []string{"rt", "init"},
		Stdin:  o.io.Stdin,
		Stdout: o.io.Stdout,
		Stderr: o.io.Stderr,
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, o.extraFiles...)
	next := 3 + len(cmd.ExtraFiles)
	addFd := func(f *os.File) int {
		if f == nil {
			return -1
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		next++
		return next - 1
	}
	sockFd := addFd(child)
	// GOMAXPROCS=1 and GOGC=off: the init is one short-lived thread of
	// work; the Go runtime need not start Ps or a collector for it.
	env := []string{"_RT_INITPIPE=" + strconv.Itoa(sockFd), "GOMAXPROCS=1", "GOGC=off"}
	fifoFd := addFd(o.fifo)
	consoleFd := addFd(o.consoleSocket)
	env = append(env,
		"_RT_FIFOFD="+strconv.Itoa(fifoFd),
		"_RT_CONSOLEFD="+strconv.Itoa(consoleFd))
	// The init's logs (its C stage and its Go part) come back through a
	// pipe and go wherever rt's own go (--log, --log-format, --debug).
	logR, logW, err := os.Pipe()
	if err != nil {
		parent.Close()
		return nil, fmt.Errorf("init log pipe: %w", err)
	}
	defer logW.Close()
	env = append(env, "_RT_LOGPIPE="+strconv.Itoa(addFd(logW)), "_RT_LOGLEVEL="+logrus.GetLevel().String())
	cmd.Env = env
	bornInCgroup := false
	if o.cgroupFD >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: o.cgroupFD}
		bornInCgroup = true
	}
	// A bootstrap that the socket's buffer surely holds waits there before
	// the C stage starts: it reads it as soon as it runs, not once the
	// parent is scheduled again. A bigger one (it would block the write
	// with nobody reading) goes after the start.
	early := len(o.bootstrap) <= earlyBootstrapMax
	if early {
		if _, err := parent.Write(o.bootstrap); err != nil {
			parent.Close()
			logR.Close()
			return nil, fmt.Errorf("send bootstrap to init: %w", err)
		}
	}
	t := time.Now()
	err = cmd.Start()
	DebugPhase("init: started", t)
	if err != nil && bornInCgroup && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) || errors.Is(err, unix.EOPNOTSUPP)) {
		// An older kernel without clone3's CLONE_INTO_CGROUP: move it.
		cmd.SysProcAttr = nil
		bornInCgroup = false
		err = cmd.Start()
	}
	if err != nil {
		parent.Close()
		logR.Close()
		return nil, fmt.Errorf("start init process: %w", err)
	}
	p := &initProc{cmd: cmd.Process, conn: initproto.NewConn(parent), logs: forwardLogs(logR)}
	// Always a watch: without a cgroup to watch, it still watches the
	// container's process for a stop (see frozenWatch).
	p.watch = watchFrozen(o.watchCgroup, int(parent.Fd()))
	fail := func(err error) (*initProc, error) {
		err = p.watch.end(err)
		p.kill()
		return nil, err
	}
	// Every wait for the init's next message is bounded: an init stuck
	// in the kernel (a mount source on a hung network or FUSE file
	// system) is neither frozen nor stopped, and would hold rt for ever.
	if err := p.conn.SetRecvTimeout(InitAnswerBound + o.initHooks); err != nil {
		return fail(err)
	}
	if err := system.SetInitialAffinity(cmd.Process.pid, o.affinity); err != nil {
		return fail(err)
	}
	if !early {
		if _, err := parent.Write(o.bootstrap); err != nil {
			return fail(fmt.Errorf("send bootstrap to init: %w", err))
		}
	}
	// The child loads and enters namespaces while we place it in its
	// cgroups (a cgroup v1 move waits for an RCU grace period:
	// milliseconds better spent in parallel); CgroupOK says it is done.
	if o.placeInCgroup != nil {
		t := time.Now()
		if err := o.placeInCgroup(cmd.Process.pid, bornInCgroup); err != nil {
			return fail(err)
		}
		DebugPhase("init: placed in cgroups", t)
		if err := p.conn.Send(initproto.CgroupOK, nil); err != nil {
			return fail(p.failed("sync with init", err))
		}
	}
	if o.planFrame != nil {
		frame, err := o.planFrame()
		if err != nil {
			return fail(err)
		}
		if _, err := parent.Write(frame); err != nil {
			return fail(p.failed("send plan to init", err))
		}
	}
	m, err := p.serve(&initHandlers{
		userMaps: func() error { return writeIDMaps(cmd.Process.pid, o.uidMaps, o.gidMaps) },
	}, initproto.Pid)
	if err != nil {
		return fail(fmt.Errorf("init process: %w", err))
	}
	if len(m.Payload) != 4 {
		return fail(fmt.Errorf("init process: pid message of %d bytes", len(m.Payload)))
	}
	p.pid = int(binary.LittleEndian.Uint32(m.Payload))
	p.watch.setPid(p.pid)
	if p.pid != cmd.Process.pid {
		// The C stage forked into the new pid namespace and has exited.
		p.forked = true
		cmd.Process.wait()
	}
	return p, nil
}

func writeIDMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	if os.Geteuid() != 0 {
		// An unprivileged writer may map only its own ids, and the gid
		// map only once setgroups is denied.
		path := fmt.Sprintf("/proc/%d/setgroups", pid)
		if err := os.WriteFile(path, []byte("deny"), 0); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	format := func(m []specs.LinuxIDMapping) []byte {
		var b bytes.Buffer
		for _, e := range m {
			fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
		}
		return b.Bytes()
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"uid_map", format(uids)}, {"gid_map", format(gids)}} {
		path := fmt.Sprintf("/proc/%d/%s", pid, f.name)
		if err := os.WriteFile(path, f.data, 0); err != nil {
			return fmt.Errorf("write %s (%q): %w", path, strings.TrimSpace(string(f.data)), err)
		}
	}
	return nil
}

// sendConfig sends the init its configuration.
func (p *initProc) sendConfig(c *initConfig) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode init config: %w", err)
	}
	if err := p.conn.Send(initproto.Config, data); err != nil {
		return p.failed("send config to init", err)
	}
	return nil
}
