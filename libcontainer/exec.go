package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

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
// host pid once it has been exec'd.
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
	paused := status == Paused
	if o.Process.Terminal && o.ConsoleSocket == nil {
		return -1, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if err := system.CloseExecFrom(3 + o.PreserveFds); err != nil {
		return -1, fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}
	cfg, err := c.config()
	if err != nil {
		return -1, err
	}
	initPid := c.state.InitPid
	// Join every namespace the container has, through its init.
	var joins []configs.Namespace
	for _, ns := range cfg.Namespaces {
		joins = append(joins, configs.Namespace{
			Type: ns.Type,
			Path: "/proc/" + strconv.Itoa(initPid) + "/ns/" + nsProcName[ns.Type],
		})
	}
	mgr, mgrErr := c.cgroupManager()
	extra := make([]*os.File, o.PreserveFds)
	for i := range extra {
		extra[i] = os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i))
	}
	join := func(pid int, _ bool) error {
		if g := c.state.IntelRdt; g != nil {
			if err := intelrdt.AddPid(g, pid); err != nil {
				return err
			}
		}
		if mgrErr != nil {
			return nil // a container without a cgroup (none was made)
		}
		return joinCgroup(mgr, pid, o.SubCgroup)
	}
	bootstrap, err := bootstrapData(joins, nil, paused)
	if err != nil {
		return -1, fmt.Errorf("exec in container %q: %w", c.ID(), err)
	}
	so := &spawnOpts{
		bootstrap:     bootstrap,
		extraFiles:    extra,
		consoleSocket: o.ConsoleSocket,
		io:            o.IO,
		cgroupFD:      -1,
		placeInCgroup: join,
		affinity:      o.Process.ExecCPUAffinity,
	}
	if paused {
		// A frozen cgroup freezes what enters it: the process joins last.
		so.placeInCgroup = nil
	} else if mgrErr == nil {
		so.watchCgroup = mgr
	}
	proc, err := spawnInit(so)
	if err != nil {
		return -1, fmt.Errorf("exec in container %q: %w", c.ID(), err)
	}
	ociState := c.ociState(status)
	ic := &initConfig{Config: initView(cfg), Process: o.Process, Exec: true, PreserveFds: o.PreserveFds, State: ociState, LateCgroup: paused}
	if err := proc.sendConfig(ic); err != nil {
		proc.kill()
		return -1, fmt.Errorf("exec in container %q: %w", c.ID(), err)
	}
	// The init reports an error, or closes its (close-on-exec) end of the
	// socket by exec'ing the process; before that it may send its seccomp
	// notify fd for the listener, or (paused) ask to join the cgroup: then
	// it freezes there and execs once resumed, so there is no exec to wait
	// for.
	h := &initHandlers{
		seccomp: func(fd int) error {
			return seccomp.SendNotifyFd(cfg.Seccomp.ListenerPath, fd, proc.pid, cfg.Seccomp.ListenerMetadata, *ociState)
		},
	}
	if paused {
		h.join = func() error { return join(proc.pid, false) }
	}
	_, err = proc.serve(h, initproto.Join)
	if err = proc.watch.end(err); err != nil && !isInitGone(err) {
		proc.kill()
		return -1, fmt.Errorf("exec in container %q: %w", c.ID(), err)
	}
	proc.conn.Close()
	if o.PidfdSocket != nil {
		if err := sendPidfd(o.PidfdSocket, proc.pid); err != nil {
			return proc.pid, err
		}
	}
	if !proc.forked {
		proc.cmd.Process.Release()
	}
	return proc.pid, nil
}

// joinCgroup moves pid into the container's cgroup, or into a sub-cgroup.
func joinCgroup(mgr cgroups.Manager, pid int, sub string) error {
	paths := mgr.Paths()
	if sub != "" {
		ctrl := ""
		if i := strings.IndexByte(sub, ':'); i >= 0 {
			ctrl, sub = sub[:i], sub[i+1:]
		}
		if !validSubPath(sub) {
			return fmt.Errorf("--cgroup %q: must be a relative path inside the container's cgroup", sub)
		}
		for c, p := range paths {
			if ctrl != "" && c != ctrl {
				continue
			}
			paths[c] = p + "/" + sub
		}
	}
	m, err := cgroups.Load(paths)
	if err != nil {
		return err
	}
	if err := m.Apply(pid); err != nil {
		return fmt.Errorf("join container cgroup: %w", err)
	}
	return nil
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
		if err == unix.EINTR {
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
