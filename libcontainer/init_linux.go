package libcontainer

import (
	"io"

	"encoding/json"
	"errors"
	"fmt"
	"github.com/sirupsen/logrus"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/apparmor"
	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/hooks"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/nsenter"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
	"github.com/rt-runtime/rt/libcontainer/system"
)

// IsInit reports whether this process is `rt init` (re-executed by rt with
// its init socket).
func IsInit() bool {
	return len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_RT_INITPIPE") != ""
}

// Init is the Go part of the container's init process. It never returns:
// it execs the user process or exits with status 1 after reporting the
// error to the parent (or, after create returned, through the exec fifo).
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
	fifoFd := envFd("_RT_FIFOFD")
	consoleFd := envFd("_RT_CONSOLEFD")
	logFd := envFd("_RT_LOGPIPE")
	logLevel := os.Getenv("_RT_LOGLEVEL")
	for _, k := range []string{"_RT_INITPIPE", "_RT_FIFOFD", "_RT_CONSOLEFD", "_RT_LOGPIPE", "_RT_LOGLEVEL", "GOMAXPROCS", "GOGC"} {
		os.Unsetenv(k)
	}
	unix.CloseOnExec(sockFd)

	in := &initRun{conn: conn, fifoFd: fifoFd, consoleFd: consoleFd, setupSock: nsenter.SetupSock()}
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
	fifoFd    int
	consoleFd int
	cfg       *initConfig
	// released: the parent is gone; errors go to the exec fifo.
	released bool
	fifoW    int
	// exePath is the user process's executable, resolved at create.
	exePath string
	// startHooks are the startContainer hooks, run by finalExec.
	startHooks []specs.Hook
	// seccomp is the compiled filter, installed just before execve.
	seccomp *seccomp.Program
	// caps are the process's capabilities, resolved at prepareProcess.
	caps *capabilities.Caps
	// setupSock >= 0: this process is the set-up child of a C init
	// (nsenter/pid1.c), which does the per-process steps itself; this
	// process does the container's set-up, hands the init its root and
	// pty on setupSock, and exits.
	setupSock int
}

func (in *initRun) report(err error) {
	if in.released {
		if in.fifoW > 0 {
			unix.Write(in.fifoW, []byte(err.Error()))
		}
		fmt.Fprintln(os.Stderr, "rt init:", err)
		return
	}
	in.conn.SendError(err)
}

func (in *initRun) run() error {
	if in.setupSock >= 0 {
		// The set-up child of a C init: the init reads its plan from the
		// init socket first, then says go.
		var b [1]byte
		if n, err := unix.Read(in.setupSock, b[:]); n != 1 || err != nil {
			// The init gave up (and told the parent why).
			os.Exit(1)
		}
	}
	m, err := in.conn.Expect(initproto.Config)
	if err != nil {
		return err
	}
	var ic initConfig
	if err := json.Unmarshal(m.Payload, &ic); err != nil {
		return fmt.Errorf("decode init config: %w", err)
	}
	in.cfg = &ic
	logrus.Debugf("init: configuration received (pid %d, exec false)", os.Getpid())
	return in.containerSetup()
}

// containerSetup prepares a new container: rootfs, hooks, console,
// hostname, sysctls; reports ready; waits for start; execs.
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
	setupOnly := in.setupSock >= 0
	pty := -1
	if setupOnly {
		// The C init makes the pty its controlling terminal (and takes
		// care of its own stdio and session).
		if proc.Terminal {
			if pty, err = makeConsole(in.consoleFd, proc, hasMountNS); err != nil {
				return err
			}
			defer unix.Close(pty)
		}
	} else {
		if err := reopenDevNull(); err != nil {
			return err
		}
		if proc.Terminal {
			if err := setupConsole(in.consoleFd, proc, hasMountNS); err != nil {
				return err
			}
		} else if err := newSession(); err != nil {
			return err
		}
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
	if setupOnly {
		return in.setupDone(pty)
	}
	if err := joinSessionKeyring(cfg); err != nil {
		return err
	}
	if err := in.prepareProcess(proc, true); err != nil {
		return err
	}
	// Ready: the parent records the container as created and exits.
	if err := in.conn.Send(initproto.Ready, nil); err != nil {
		return err
	}
	logrus.Debugf("init: set up; waiting for start")
	in.closeLogs()
	in.conn.Close()
	in.released = true
	// Nothing but start is left: give back what setting up took.
	releaseIdleMemory()
	// Block until `rt start` opens the fifo for reading.
	fifo, err := unix.Open("/proc/self/fd/"+strconv.Itoa(in.fifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	in.fifoW = fifo
	unix.Close(in.fifoFd)
	if _, err := unix.Write(fifo, []byte{'0'}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	// startContainer hooks run from finalExec, as the process will run.
	in.startHooks = cfg.Hooks.StartContainer
	return in.finalExec(proc)
}

// prepareProcess does the process setup that can fail in ways the user must
// hear about at create: limits, cwd, and finding the executable.
func (in *initRun) prepareProcess(proc *specs.Process, chdir bool) error {
	// As runc: HOME, when the process has none, from the container's
	// /etc/passwd.
	proc.Env = withHome(proc.Env, proc.User.UID)
	setHookEnv(proc.Env)
	// Compile the seccomp filter while memory is not yet limited.
	prog, err := seccomp.Compile(in.cfg.Config.Seccomp)
	if err != nil {
		return err // names the field
	}
	if prog.Notify() {
		// The listener must get the notify fd, and only the parent can
		// reach it (listenerPath is a host path): install the filter now,
		// while the parent still waits for us (runc does the same; what
		// the init does from here on is subject to the filter).
		fd, err := prog.Install()
		if err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
		err = in.sendSeccompFd(fd)
		unix.Close(fd)
		if err != nil {
			return err
		}
		prog = nil
	}
	in.seccomp = prog
	if err := system.SetRlimits(proc.Rlimits); err != nil {
		return err
	}
	if proc.Scheduler != nil {
		if err := system.SetScheduler(proc.Scheduler); err != nil {
			return err
		}
	}
	if proc.IOPriority != nil {
		if err := system.SetIOPriority(proc.IOPriority); err != nil {
			return err
		}
	}
	if in.cfg.Config.Personality != nil {
		if err := system.SetPersonality(in.cfg.Config.Personality); err != nil {
			return err
		}
	}
	if mp := in.cfg.Config.MemoryPolicy; mp != nil {
		// Per thread, kept across execve: this thread execs the process.
		if err := system.SetMemoryPolicy(mp); err != nil {
			return err
		}
	}
	if chdir {
		if err := unix.Chdir(proc.Cwd); err != nil {
			return fmt.Errorf("process.cwd: chdir to %s: %w", proc.Cwd, err)
		}
		// The cwd must be inside the container (CVE-2024-21626).
		if wd, err := os.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
			return fmt.Errorf("process.cwd: %s is outside the container", proc.Cwd)
		}
	}
	path, err := lookPath(proc.Args[0], proc.Env)
	if err != nil {
		return err
	}
	in.exePath = path
	// Resolved now, while the log pipe is open (create: before ready), so
	// that what it reports (capabilities this kernel lacks) reaches the
	// parent's log.
	spec := proc.Capabilities
	if spec == nil {
		spec = &specs.LinuxCapabilities{}
	}
	caps, err := capabilities.New(spec)
	if err != nil {
		if proc.Capabilities != nil {
			return err
		}
		caps = nil
	}
	in.caps = caps
	return nil
}

// finalExec drops privileges, closes every fd that is not the process's,
// loads seccomp and execs the user process.
func (in *initRun) finalExec(proc *specs.Process) error {
	// No fd but stdio and the preserved ones may reach the process. Done
	// first: a seccomp filter loaded below may forbid close_range.
	if err := system.CloseExecFrom(3 + in.cfg.PreserveFds); err != nil {
		return fmt.Errorf("close fds: %w", err)
	}
	// In its cgroup by now: all of the cgroup's CPUs (execCPUAffinity is
	// for `rt exec`, whose process the C stage applies: plan.c).
	if err := system.SetFinalAffinity(nil); err != nil {
		return err
	}
	path := in.exePath
	caps := in.caps
	if caps != nil {
		if err := caps.ApplyBoundingSet(); err != nil {
			return fmt.Errorf("apply bounding capabilities: %w", err)
		}
	}
	// Without no_new_privs, loading a seccomp filter needs CAP_SYS_ADMIN:
	// load it now, before privileges go (runc's order). With it, load it
	// last, so the filter has to allow as little of rt's own work as possible.
	if !proc.NoNewPrivileges {
		if _, err := in.seccomp.Install(); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	u := proc.User
	if err := caps.ChangeUser(u.UID, u.GID, u.AdditionalGids); err != nil {
		return err
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	} else {
		unix.Umask(0o022)
	}
	if proc.NoNewPrivileges {
		if err := system.SetNoNewPrivileges(); err != nil {
			return err
		}
	}
	if proc.ApparmorProfile != "" {
		if err := apparmor.ApplyProfile(proc.ApparmorProfile); err != nil {
			return fmt.Errorf("process.apparmorProfile: %w", err)
		}
	}
	// As runc: the startContainer hooks run as the process will: its user,
	// capabilities, cwd, no_new_privs, AppArmor profile, environment (for a
	// hook without env of its own), and its seccomp filter unless that is
	// loaded last (with no_new_privs).
	if len(in.startHooks) > 0 {
		if err := hooks.Run("startContainer", in.startHooks, in.containerState(specs.StateCreated)); err != nil {
			return err
		}
	}
	if proc.NoNewPrivileges {
		if _, err := in.seccomp.Install(); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	env := proc.Env
	if err := unix.Exec(path, proc.Args, env); err != nil {
		return fmt.Errorf("exec %q: %w", proc.Args[0], err)
	}
	return nil
}

// lookPath resolves name with the PATH of the process's own environment.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := isExecutable(name); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return name, nil
	}
	pathEnv := ""
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			pathEnv = e[5:]
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func isExecutable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR
	}
	if st.Mode&0o111 == 0 {
		return unix.EACCES
	}
	return nil
}

// writeSysctl writes one sysctl of the container's namespaces.
func writeSysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.sysctl[%q]: %w", key, err)
	}
	defer f.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("linux.sysctl[%q]: %s is not on procfs", key, path)
	}
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("linux.sysctl[%q]: write %s: %w", key, path, err)
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
	st.Pid = os.Getpid()
	if in.setupSock >= 0 {
		st.Pid = os.Getppid()
	}
	return &st
}

// The init's requests to the parent (see initproto): each is one
// exchange, answered by the parent's serve loop.

// askHooks asks the parent to run its prestart/createRuntime hooks.
func (in *initRun) askHooks() error {
	_, err := in.conn.Request(initproto.Hooks, initproto.HooksOK, nil)
	return err
}

// sendSeccompFd hands the parent the seccomp notify fd for the listener.
func (in *initRun) sendSeccompFd(fd int) error {
	if _, err := in.conn.Request(initproto.Seccomp, initproto.SeccompOK, nil, fd); err != nil {
		return fmt.Errorf("send seccomp notify fd: %w", err)
	}
	return nil
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

// joinSessionKeyring gives the process the container's session keyring
// ("_ses.<id>", made by the first process that joins it), unless the config
// asks for none (--no-new-keyring): then it keeps its caller's, which lets
// it read and change every key of the session that ran rt.
func joinSessionKeyring(cfg *configs.Config) error {
	if cfg.NoNewKeyring {
		return nil
	}
	if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("join session keyring: %w", err)
	}
	return nil
}

// newSession makes the process the leader of a session of its own, as
// runc's init does for every container process (a terminal's setup does
// it too): it leaves rt's session and process group, and CRIU can dump a
// container whose init leads its session.
func newSession() error {
	if _, err := unix.Setsid(); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("setsid: %w", err)
	}
	return nil
}

// reopenDevNull gives stdio fds that are the host's /dev/null the
// container's /dev/null instead, as runc's init does: a file of a mount
// outside the container is one CRIU cannot checkpoint ("Can't lookup
// mount"), and engines (conmon) hand detached containers /dev/null.
func reopenDevNull() error {
	var null unix.Stat_t
	f, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return nil // no /dev/null in the container: nothing to swap in
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &null); err != nil || null.Mode&unix.S_IFMT != unix.S_IFCHR {
		return nil
	}
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == null.Rdev {
			if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
				return fmt.Errorf("reopen /dev/null as fd %d: %w", fd, err)
			}
		}
	}
	return nil
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
