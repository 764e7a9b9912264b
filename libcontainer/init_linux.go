package libcontainer

import (
	"io"

	"encoding/json"
	"errors"
	"fmt"
	"github.com/sirupsen/logrus"
	"os"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/nsenter"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
)

// IsInit reports whether this process is `rt init` (re-executed by rt with
// its init socket).
func IsInit() bool {
	return len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_RT_INITPIPE") != ""
}

// Init is the Go part of `rt init`: the set-up child of the container's C
// init (nsenter/pid1.c). It never returns: it does the container's set-up,
// hands the C init its root and pty and exits 0, or exits with status 1
// after reporting the error to the parent.
// It locks the calling goroutine to its OS thread (cmd/rt has already
// done so in its init, before any other goroutine could start).
func Init() {
	runtime.LockOSThread()
	envFd := func(name string) int {
		n, err := strconv.Atoi(os.Getenv(name))
		if err != nil {
			return -1
		}
		return n
	}
	sockFd := envFd("_RT_INITPIPE")
	conn := initproto.NewConn(os.NewFile(uintptr(sockFd), "init-sock"))
	consoleFd := envFd("_RT_CONSOLEFD")
	logFd := envFd("_RT_LOGPIPE")
	logLevel := os.Getenv("_RT_LOGLEVEL")
	for _, k := range []string{"_RT_INITPIPE", "_RT_FIFOFD", "_RT_CONSOLEFD", "_RT_LOGPIPE", "_RT_LOGLEVEL", "GOMAXPROCS", "GOGC"} {
		os.Unsetenv(k)
	}
	unix.CloseOnExec(sockFd)

	in := &initRun{conn: conn, consoleFd: consoleFd, setupSock: nsenter.SetupSock()}
	// The init's stderr is the container's: rt's own log lines go to the
	// parent through the log pipe (see logs.go), or nowhere.
	logrus.SetOutput(io.Discard)
	if logFd >= 0 {
		unix.CloseOnExec(logFd)
		in.logPipe = os.NewFile(uintptr(logFd), "log-pipe")
		logrus.SetOutput(in.logPipe)
		logrus.SetFormatter(&logrus.JSONFormatter{})
		if lvl, err := logrus.ParseLevel(logLevel); err == nil {
			logrus.SetLevel(lvl)
		}
	}
	err := in.run()
	// Reaching here is a failure: success execs.
	if err == nil {
		err = errors.New("init returned without exec")
	}
	in.report(err)
	os.Exit(1)
}

type initRun struct {
	conn      *initproto.Conn
	logPipe   *os.File // nil once closed
	consoleFd int
	cfg       *initConfig
	// setupSock: this process is the set-up child of the container's C
	// init (nsenter/pid1.c), which does the per-process steps itself;
	// this process does the container's set-up, hands the init its root
	// and pty on setupSock, and exits.
	setupSock int
}

func (in *initRun) report(err error) {
	in.conn.SendError(err)
}

func (in *initRun) run() error {
	if in.setupSock < 0 {
		// Every container's init is C (the bootstrap's Pid1 record):
		// the Go init is only its set-up child.
		return errors.New("rt init: not the set-up child of a container's init")
	}
	// The C init reads its plan from the init socket first, then says go.
	var b [1]byte
	if n, err := unix.Read(in.setupSock, b[:]); n != 1 || err != nil {
		// The init gave up (and told the parent why).
		os.Exit(1)
	}
	m, err := in.conn.Expect(initproto.Config)
	if err != nil {
		return err
	}
	var w setupWire
	if err := json.Unmarshal(m.Payload, &w); err != nil {
		return fmt.Errorf("decode init config: %w", err)
	}
	if w.Config == nil || w.Process == nil {
		return errors.New("decode init config: no config or no process")
	}
	in.cfg = w.initConfig()
	logrus.Debugf("init: configuration received (pid %d, exec false)", os.Getpid())
	return in.containerSetup()
}

// containerSetup prepares a new container: rootfs, hooks, console,
// hostname, sysctls; then hands the C init the root and the pty.
func (in *initRun) containerSetup() (err error) {
	cfg := in.cfg.Config
	proc := in.cfg.Process
	hasMountNS := cfg.NamespaceOf(specs.MountNamespace) != nil
	// As runc (its "loopback" network of a new network namespace): lo is
	// up before anything else runs in the container's namespace.
	if cfg.HasNewNamespace(specs.NetworkNamespace) {
		if _, err := loopbackFlags(true); err != nil {
			return fmt.Errorf("network namespace: %w", err)
		}
	}
	if hasIDMapMounts(cfg) {
		if err := recvIDMapTrees(in.conn, cfg); err != nil {
			return err
		}
	}
	if err := rootfs.PrepareMounts(cfg); err != nil {
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	if in.cfg.HasParentHooks {
		if err := in.askHooks(); err != nil {
			return err
		}
	}
	if len(cfg.Hooks.CreateContainer) > 0 {
		// As runc: from the rootfs (before pivot_root), with the process's
		// environment for a hook that has none of its own.
		if err := unix.Chdir(cfg.Rootfs); err != nil {
			return fmt.Errorf("chdir to the rootfs %s: %w", cfg.Rootfs, err)
		}
		setHookEnv(proc.Env)
		if err := hooks.Run("createContainer", cfg.Hooks.CreateContainer, in.containerState(specs.StateCreated)); err != nil {
			return err
		}
	}
	if hasMountNS {
		if err := rootfs.PivotRoot(cfg); err != nil {
			return fmt.Errorf("pivot root: %w", err)
		}
	} else {
		// No mount namespace: pivot_root would move the host's root.
		if err := unix.Chroot(cfg.Rootfs); err != nil {
			return fmt.Errorf("chroot %s: %w", cfg.Rootfs, err)
		}
		if err := unix.Chdir("/"); err != nil {
			return fmt.Errorf("chdir /: %w", err)
		}
	}
	// The C init makes the pty its controlling terminal (and takes care
	// of its own stdio and session).
	pty := -1
	if proc.Terminal {
		if pty, err = makeConsole(in.consoleFd, proc, hasMountNS); err != nil {
			return err
		}
		defer unix.Close(pty)
	}
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", cfg.Hostname, err)
		}
	}
	if cfg.Domainname != "" {
		if err := unix.Setdomainname([]byte(cfg.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", cfg.Domainname, err)
		}
	}
	for k, v := range cfg.Sysctl {
		if err := writeSysctl(k, v); err != nil {
			return err
		}
	}
	// As runc: a missing cwd is created (before the rootfs turns read-only).
	if err := os.MkdirAll(proc.Cwd, 0o755); err != nil {
		return fmt.Errorf("process.cwd: create %s: %w", proc.Cwd, err)
	}
	if hasMountNS {
		if err := rootfs.Finalize(cfg); err != nil {
			return fmt.Errorf("finalize rootfs: %w", err)
		}
	}
	return in.setupDone(pty)
}

// writeSysctl writes one sysctl of the container's namespaces.
func writeSysctl(key, value string) error {
	f, err := rootfs.OpenProcWrite("sys/" + strings.ReplaceAll(key, ".", "/"))
	if err != nil {
		return fmt.Errorf("linux.sysctl[%q]: %w", key, err)
	}
	defer f.Close()
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("linux.sysctl[%q]: write %s: %w", key, f.Name(), err)
	}
	return nil
}

// setupDone ends the set-up child: it hands the C init (its parent) the
// container's root and the pty slave (or none) and exits. The init reads
// the set-up as failed if this process exits otherwise (its error went to
// rt through the init socket).
func (in *initRun) setupDone(pty int) error {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's root: %w", err)
	}
	defer unix.Close(root)
	fds := []int{root}
	if pty >= 0 {
		fds = append(fds, pty)
	}
	conn := initproto.NewConn(os.NewFile(uintptr(in.setupSock), "setup-sock"))
	if err := conn.Send(initproto.SetupDone, nil, fds...); err != nil {
		return fmt.Errorf("hand the set-up to the container's init: %w", err)
	}
	logrus.Debugf("init: set-up done (pid %d); the container's init goes on", os.Getpid())
	in.closeLogs()
	os.Exit(0)
	return nil
}

// containerState is the state for hooks run in the container's namespaces:
// the pid is the init's as the container sees it (the set-up child's
// parent, when the init stays C).
func (in *initRun) containerState(status specs.ContainerState) *specs.State {
	st := *in.cfg.State
	st.Status = status
	st.Pid = os.Getppid()
	return &st
}

// The init's requests to the parent (see initproto): each is one
// exchange, answered by the parent's serve loop.

// askHooks asks the parent to run its prestart/createRuntime hooks.
func (in *initRun) askHooks() error {
	_, err := in.conn.Request(initproto.Hooks, initproto.HooksOK, nil)
	return err
}

// setHookEnv makes env the init's own environment, which a hook run by the
// init without an env of its own inherits (runc's init does the same).
func setHookEnv(env []string) {
	os.Clearenv()
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
}

// closeLogs closes the log pipe: the parent stops waiting for more lines
// (before the init waits for start, or freezes in a paused cgroup).
func (in *initRun) closeLogs() {
	if in.logPipe != nil {
		logrus.SetOutput(io.Discard)
		in.logPipe.Close()
		in.logPipe = nil
	}
}
