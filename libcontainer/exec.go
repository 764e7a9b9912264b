package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
	"github.com/rt-runtime/rt/libcontainer/system"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

// ExecOpts are the inputs of Exec.
type ExecOpts struct {
	Process       *specs.Process
	IO            IO
	ConsoleSocket *os.File
	PidfdSocket   *os.File
	PreserveFds   int
	// SubCgroup, if set, places the process in this sub-cgroup of the
	// container's cgroup (relative path; with a "controller:" prefix only
	// for that v1 controller).
	SubCgroup    string
	IgnorePaused bool
}

var nsProcName = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// Exec starts a new process in the running container and returns its
// host pid once it has been exec'd. After the checks, its steps are those
// of (*execution).run; the one resource they make, the process, is killed
// if a later step fails.
func (c *Container) Exec(o *ExecOpts) (int, error) {
	d, err := lockDir(c.dir, unix.LOCK_SH)
	if err != nil {
		return -1, err
	}
	defer d.unlock()
	op := OpExec
	if o.IgnorePaused {
		op = OpExecPaused
	}
	status := c.Status()
	if err := checkStatus(op, c.ID(), status); err != nil {
		return -1, err
	}
	if o.Process.Terminal && o.ConsoleSocket == nil {
		return -1, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if err := system.CloseExecFrom(3 + o.PreserveFds); err != nil {
		return -1, fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}
	x := &execution{c: c, o: o, status: status, paused: status == Paused}
	pid, err := x.run()
	if err != nil {
		return pid, fmt.Errorf("exec in container %q: %w", c.ID(), err)
	}
	return pid, nil
}

// execution is one Exec in progress.
type execution struct {
	c      *Container
	o      *ExecOpts
	status Status
	// paused: a frozen cgroup freezes what enters it, so the process
	// joins it last, just before it execs (and runs on resume).
	paused bool

	cfg *configs.Config
	mgr cgroups.Manager // nil for a container without a cgroup
	// planFrame gives the process's plan (computed while the C stage
	// starts); spawnInit sends it.
	planFrame func() ([]byte, error)
	proc      *initProc
	ociState  *specs.State
	// selfJoin: the C stage moves itself into the cgroup v1 hierarchies
	// (BootstrapData.CgroupTasks); unified is a hybrid host's cgroup2
	// directory, left to the parent.
	selfJoin bool
	unified  string
}

func (x *execution) run() (int, error) {
	cfg, err := x.c.ExecConfig()
	if err != nil {
		return -1, err
	}
	x.cfg = cfg
	if m, err := x.c.cgroupManager(); err == nil {
		x.mgr = m
	}
	// The plan (a seccomp profile's compilation is its costly part) is
	// computed while the C stage starts and joins the namespaces.
	type planned struct {
		frame []byte
		err   error
	}
	planc := make(chan planned, 1)
	go func() {
		plan, err := processPlan(cfg, x.o.Process, planOpts{exec: true, preserveFds: x.o.PreserveFds, lateCgroup: x.paused,
			stateDir: x.c.dir, seccomp: x.c.seccompSource()})
		if err != nil {
			planc <- planned{err: err}
			return
		}
		frame, err := plan.Encode()
		planc <- planned{frame, err}
	}()
	var plan *planned
	x.planFrame = func() ([]byte, error) {
		if plan == nil {
			p := <-planc
			plan = &p
		}
		return plan.frame, plan.err
	}
	t := time.Now()
	err = x.spawn()
	x.planFrame() // the goroutine is done whatever happened
	if err != nil {
		return -1, err
	}
	DebugPhase("exec: init started, pid known", t)
	t = time.Now()
	x.ociState = x.c.ociState(x.status)
	if err := x.awaitExec(); err != nil {
		x.proc.kill()
		return -1, err
	}
	DebugPhase("exec: process exec'd", t)
	t = time.Now()
	defer DebugPhase("exec: released", t)
	return x.proc.pid, x.release()
}

// placeInCgroup puts pid in the container's cgroup (or sub-cgroup) and
// resctrl group.
func (x *execution) placeInCgroup(pid int, bornInCgroup bool) error {
	if g := x.c.state.IntelRdt; g != nil {
		if err := intelrdt.AddPid(g, pid); err != nil {
			return err
		}
	}
	if x.mgr == nil {
		return nil // a container without a cgroup (none was made)
	}
	if x.selfJoin {
		// The C stage moved itself into the v1 hierarchies; what is left
		// is a hybrid host's cgroup2 one, unless it was born there.
		if x.unified == "" || bornInCgroup {
			return nil
		}
		return cgroups.AddProcess(map[string]string{"": x.unified}, pid)
	}
	return joinCgroup(x.mgr, pid, x.o.SubCgroup)
}

// spawn starts `rt init`, whose C stage joins every namespace of the
// container through its init.
func (x *execution) spawn() error {
	initPid := x.c.state.InitPid
	var joins []configs.Namespace
	for _, ns := range x.cfg.Namespaces {
		joins = append(joins, configs.Namespace{
			Type: ns.Type,
			Path: "/proc/" + strconv.Itoa(initPid) + "/ns/" + nsProcName[ns.Type],
		})
	}
	// Plan mode: the C stage applies the plan and execs; no Go runtime
	// starts inside the container.
	b := bootstrapOf(joins, nil, x.paused)
	b.Plan = true
	cgroupFD := -1
	if !x.paused && x.mgr != nil {
		// On cgroup v1 the C stage moves itself (a parent's move of
		// another process waits for an RCU grace period: 5-15 ms); the
		// cgroup2 hierarchy of a hybrid host it is born in.
		paths, err := execCgroupPaths(x.mgr, x.o.SubCgroup)
		if err != nil {
			return err
		}
		tasks, unified, ok, err := cgroups.SelfJoinFiles(paths)
		if err != nil {
			return err
		}
		if ok {
			x.selfJoin, x.unified, b.CgroupTasks = true, unified, tasks
			if unified != "" {
				fd, err := unix.Open(unified, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return fmt.Errorf("open cgroup %s: %w", unified, err)
				}
				defer unix.Close(fd)
				cgroupFD = fd
			}
		}
	}
	bootstrap, err := b.Encode()
	if err != nil {
		return err
	}
	extra := make([]*os.File, x.o.PreserveFds)
	for i := range extra {
		extra[i] = os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i))
	}
	so := &spawnOpts{
		bootstrap:     bootstrap,
		extraFiles:    extra,
		consoleSocket: x.o.ConsoleSocket,
		io:            x.o.IO,
		cgroupFD:      cgroupFD,
		placeInCgroup: x.placeInCgroup,
		affinity:      x.o.Process.ExecCPUAffinity,
		planFrame:     x.planFrame,
		stage:         true,
	}
	if x.paused {
		so.placeInCgroup = nil // the init asks to join last (Join)
	} else if x.mgr != nil {
		so.watchCgroup = x.mgr
	}
	x.proc, err = spawnInit(so)
	return err
}

// awaitExec answers the init until it execs the process (its
// close-on-exec socket end closes) or fails; before that it may send its
// seccomp notify fd for the listener, or (paused) ask to join the cgroup:
// then it freezes there and execs once resumed, so there is no exec to
// wait for.
func (x *execution) awaitExec() error {
	h := &initHandlers{
		seccomp: func(fd int) error {
			src := x.c.seccompSource()
			if src == nil {
				return errors.New("seccomp notify fd from a container without a seccomp profile")
			}
			prof, err := src.profile()
			if err != nil {
				return err
			}
			return seccomp.SendNotifyFd(prof.ListenerPath, fd, x.proc.pid, prof.ListenerMetadata, *x.ociState)
		},
	}
	if x.paused {
		h.join = func() error { return x.placeInCgroup(x.proc.pid, false) }
	}
	_, err := x.proc.serve(h, initproto.Join)
	if err = x.proc.watch.end(err); err != nil && !isInitGone(err) {
		return err
	}
	return nil
}

// release hands the process over: its pidfd to --pidfd-socket, and it
// lives on after rt exits.
func (x *execution) release() error {
	// Its log pipe closed when it exec'd (or, paused, before it joined).
	x.proc.logs.wait(time.Second)
	x.proc.conn.Close()
	if x.o.PidfdSocket != nil {
		return sendPidfd(x.o.PidfdSocket, x.proc.pid)
	}
	return nil
}

// joinCgroup moves pid into the container's cgroup, or into a sub-cgroup.
func joinCgroup(mgr cgroups.Manager, pid int, sub string) error {
	paths, err := execCgroupPaths(mgr, sub)
	if err != nil {
		return err
	}
	return cgroups.AddProcess(paths, pid)
}

// execCgroupPaths returns the container's cgroup paths, or those of its
// sub-cgroup sub ("[controller:]path", --cgroup).
func execCgroupPaths(mgr cgroups.Manager, sub string) (map[string]string, error) {
	paths := mgr.Paths()
	if sub != "" {
		ctrl := ""
		if i := strings.IndexByte(sub, ':'); i >= 0 {
			ctrl, sub = sub[:i], sub[i+1:]
		}
		if !validSubPath(sub) {
			return nil, fmt.Errorf("--cgroup %q: must be a relative path inside the container's cgroup", sub)
		}
		for c, p := range paths {
			if ctrl != "" && c != ctrl {
				continue
			}
			paths[c] = p + "/" + sub
		}
	}
	return paths, nil
}

func validSubPath(p string) bool {
	if p == "" || p[0] == '/' {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// sendPidfd sends a pidfd of pid over sock (--pidfd-socket).
func sendPidfd(sock *os.File, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := utils.SendFds(sock, []byte("pidfd"), fd); err != nil {
		return fmt.Errorf("--pidfd-socket: %w", err)
	}
	return nil
}

// WaitPid waits for pid, a process re-parented to us (rt is its
// subreaper), and returns its shell-style exit status.
func WaitPid(pid int) (int, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("wait for process %d: %w", pid, err)
		}
		switch {
		case ws.Exited():
			return ws.ExitStatus(), nil
		case ws.Signaled():
			return 128 + int(ws.Signal()), nil
		}
	}
}

// SignalPid sends sig to pid (a process rt started with Exec).
func SignalPid(pid int, sig unix.Signal) error {
	return unix.Kill(pid, sig)
}
