package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/hooks"
)

// Container is a container known to rt's state directory.
type Container struct {
	root  string
	dir   string
	state *State
	// execCfg is the part of the config that exec reads (see ExecConfig),
	// execSeccomp its seccomp profile, still JSON.
	execCfg     *configs.Config
	execSeccomp *rawSeccomp
}

// ID returns the container's id.
func (c *Container) ID() string { return c.state.ID }

// Config returns the container's configuration, read from its state
// directory on first use.
func (c *Container) Config() (*configs.Config, error) { return c.config() }

// ExecConfig returns the part of the container's configuration that exec
// reads (execConfigView: its process, namespaces, personality, memory
// policy and keyring), read from config.json on first use. Its Seccomp is
// left nil when it was read that way: the profile is seccompSource's,
// decoded only if exec needs it (a cache miss, a notify listener). The
// whole configuration has many more types (mounts, devices, resources,
// hooks) whose first JSON decoding in a process builds their reflection
// tables: ~0.3 ms of exec's start, for fields exec never reads. The full
// configuration, once read, serves as well.
func (c *Container) ExecConfig() (*configs.Config, error) {
	if c.state.Config != nil {
		return c.state.Config, nil
	}
	if c.execCfg != nil {
		return c.execCfg, nil
	}
	var v execConfigView
	if err := readConfigInto(c.dir, &v); err != nil {
		return nil, fmt.Errorf("container %q: %w", c.state.ID, err)
	}
	c.execCfg = v.config()
	if len(v.Seccomp) > 0 && string(v.Seccomp) != "null" {
		c.execSeccomp = &rawSeccomp{raw: v.Seccomp}
	}
	return c.execCfg, nil
}

// seccompSource is the container's seccomp profile (nil: none), from the
// whole configuration when it was read, else from ExecConfig's JSON.
func (c *Container) seccompSource() seccompSource {
	if cfg := c.state.Config; cfg != nil {
		if cfg.Seccomp == nil {
			return nil
		}
		return decodedSeccomp{cfg.Seccomp}
	}
	if c.execSeccomp != nil {
		return c.execSeccomp
	}
	return nil
}

// execConfigView is the part of configs.Config that exec reads, with the
// same JSON names: processPlan's and Exec's fields. A field exec starts to
// read must be added here (TestExecConfigViewPlansAsConfig holds the plans
// of both equal for a config that sets every field).
type execConfigView struct {
	ID           string              `json:"id"`
	NoNewKeyring bool                `json:"no_new_keyring,omitempty"`
	Namespaces   []configs.Namespace `json:"namespaces,omitempty"`
	// Seccomp stays JSON: a profile of hundreds of syscalls takes ~0.5 ms
	// to decode, and its compiled program is cached under a key of these
	// very bytes (rawSeccomp).
	Seccomp      json.RawMessage         `json:"seccomp,omitempty"`
	Personality  *specs.LinuxPersonality `json:"personality,omitempty"`
	MemoryPolicy *configs.MemoryPolicy   `json:"memory_policy,omitempty"`
	Process      *specs.Process          `json:"process,omitempty"`
}

func (v *execConfigView) config() *configs.Config {
	return &configs.Config{
		ID: v.ID, NoNewKeyring: v.NoNewKeyring, Namespaces: v.Namespaces,
		Personality: v.Personality, MemoryPolicy: v.MemoryPolicy, Process: v.Process,
	}
}

// config reads the container's config.json once. Load and List read only
// state.json: list and state never need the config.
func (c *Container) config() (*configs.Config, error) {
	if c.state.Config != nil {
		return c.state.Config, nil
	}
	cfg, err := readConfig(c.dir)
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", c.state.ID, err)
	}
	c.state.Config, c.state.configSaved = cfg, true
	return cfg, nil
}

// Rootfs returns the container's root filesystem path.
func (c *Container) Rootfs() string { return c.state.Rootfs }

// InitPid returns the host pid of the container's init.
func (c *Container) InitPid() int { return c.state.InitPid }

// Created returns when the container was created.
func (c *Container) Created() time.Time { return c.state.Created }

// Load returns the container id under root (its state; the config is read
// when first needed).
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	return &Container{root: root, dir: dir, state: st}, nil
}

// List returns every container under root, sorted by id. A missing root is
// an error wrapping os.ErrNotExist (the caller knows whether that is fine).
func List(root string) ([]*Container, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err // "open <root>: no such file or directory"
		}
		return nil, fmt.Errorf("read state root %s: %w", root, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name()[0] != '.' {
			names = append(names, e.Name())
		}
	}
	loaded := make([]*Container, len(names))
	Parallel(len(names), func(i int) {
		if c, err := Load(root, names[i]); err == nil {
			loaded[i] = c
		}
	})
	var out []*Container
	for _, c := range loaded {
		if c != nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out, nil
}

// Parallel calls f(0) ... f(n-1) from up to GOMAXPROCS goroutines (one
// for small n): list's per-container reads and status probes are
// independent of each other.
func Parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if w := n / 32; w < workers {
		workers = w
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Status computes the container's status from the kernel: whether its init
// lives, whether it still waits on the exec fifo, whether it is frozen.
func (c *Container) Status() Status {
	if !processAlive(c.state.InitPid, c.state.InitStart) {
		if c.state.Creating && c.state.InitPid == 0 && c.creatorAlive() {
			return Creating // its init is not started yet
		}
		return Stopped
	}
	if c.state.Creating {
		return Creating
	}
	// Frozen first: a container paused before start is "paused", as runc.
	if c.isFrozen() {
		return Paused
	}
	if _, err := os.Lstat(filepath.Join(c.dir, execFifoFile)); err == nil {
		return Created
	}
	return Running
}

// creatorAlive reports whether the state directory is locked, which
// during a create means that the create still runs: a create that was
// killed holds no lock.
func (c *Container) creatorAlive() bool {
	f, err := os.Open(c.dir)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
}

// isFrozen reports whether the container's cgroup is frozen. Without
// systemd it reads the freezer state from the saved paths (no manager is
// built: list probes every container).
func (c *Container) isFrozen() bool {
	if len(c.state.CgroupPaths) > 0 && c.state.SystemdCgroup == "" {
		frozen, err := cgroups.IsFrozen(c.state.CgroupPaths)
		return err == nil && frozen
	}
	m, err := c.cgroupManager()
	if err != nil {
		return false
	}
	frozen, err := m.IsFrozen()
	return err == nil && frozen
}

func (c *Container) cgroupManager() (cgroups.Manager, error) {
	if len(c.state.CgroupPaths) == 0 {
		return nil, errors.New("container has no cgroup")
	}
	if p := c.state.SystemdCgroup; p != "" {
		return cgroups.LoadConfig(&configs.Cgroup{Systemd: true, Path: p}, c.state.ID, c.state.CgroupPaths)
	}
	return cgroups.Load(c.state.CgroupPaths)
}

// systemdCgroup is what State.SystemdCgroup records for cfg: its
// cgroupsPath (the default one spelled out) with --systemd-cgroup.
func systemdCgroup(cfg *configs.Cgroup, id string) string {
	if !cfg.Systemd {
		return ""
	}
	if cfg.Path == "" {
		return ":rt:" + id
	}
	return cfg.Path
}

// OCIState returns the state as the OCI runtime spec defines it, with the
// status read from the kernel.
func (c *Container) OCIState() *specs.State {
	return c.ociState(c.Status())
}

// ociState is the OCI state of the container in status (which the caller
// knows: read once per command, or the one it is about to report).
func (c *Container) ociState(status Status) *specs.State {
	pid := c.state.InitPid
	if status == Stopped {
		pid = 0
	}
	return &specs.State{
		Version:     specs.Version,
		ID:          c.state.ID,
		Status:      specs.ContainerState(status),
		Pid:         pid,
		Bundle:      c.state.Bundle,
		Annotations: c.state.Annotations,
	}
}

// Owner returns the user that created the container.
func (c *Container) Owner() string { return c.state.Owner }

// Signal sends sig to the container's init, or with all to every process
// in its cgroup. A refusal of the lifecycle table and ErrNotRunning are
// returned as they are (runc's texts); any other failure is wrapped once,
// `kill container "id": ...`.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	d, err := lockDir(c.dir, unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer d.unlock()
	if err := c.signal(sig, all, c.Status()); err != nil {
		if isRefusal(err) {
			return err
		}
		return fmt.Errorf("kill container %q: %w", c.ID(), err)
	}
	return nil
}

// isRefusal reports whether err is the lifecycle's answer (a *StatusError
// or ErrNotRunning), which verbs return unwrapped: engines match runc's
// texts of these.
func isRefusal(err error) bool {
	var se *StatusError
	return errors.As(err, &se) || errors.Is(err, ErrNotRunning)
}

// signal is Signal in status, under the state directory's lock.
func (c *Container) signal(sig unix.Signal, all bool, status Status) error {
	// As runc 1.5: without a pid namespace of its own, killing the init
	// does not take the container's other processes with it, so SIGKILL
	// goes to every process of the cgroup; a container whose processes
	// are all gone is then not an error. --all (which runc 1.2+ keeps only
	// for scripts) signals every process of the cgroup, whatever the
	// signal, and is content with a stopped container.
	cfg, err := c.config()
	if err != nil {
		return err
	}
	privatePid := cfg.HasNewNamespace(specs.PIDNamespace)
	if all || (sig == unix.SIGKILL && !privatePid) {
		m, err := c.cgroupManager()
		if err == nil {
			return signalCgroup(m, sig, status == Paused)
		}
		if all && status == Stopped {
			return nil
		}
		if all {
			return fmt.Errorf("kill all processes: %w", err)
		}
		// No cgroup of its own (rootless): the init is all rt can reach.
	}
	if err := checkStatus(OpSignal, c.ID(), status); err != nil {
		if all && errors.Is(err, ErrNotRunning) {
			return nil
		}
		return err
	}
	if err := c.signalInit(sig); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return fmt.Errorf("signal container init: %w", err)
	}
	if sig == unix.SIGKILL && status == Paused {
		// A v1-frozen process acts on SIGKILL only once thawed (runc
		// thaws for SIGKILL alone).
		if m, err := c.cgroupManager(); err == nil {
			if err := m.Thaw(); err != nil {
				warnf("thaw after SIGKILL: %v", err)
			}
		}
	}
	return nil
}

// Delete removes a stopped container (or, with force, kills it first).
// A refusal of the lifecycle table is returned as it is; a failure to
// remove something is wrapped once, `delete container "id": ...`.
func (c *Container) Delete(force bool) error {
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	status := c.Status()
	op := OpDelete
	if force {
		op = OpDeleteForce
	}
	if err := checkStatus(op, c.ID(), status); err != nil {
		return err
	}
	// As runc: a container that never started is killed and removed (and,
	// with force, a running or paused one). A stopped one may still have
	// processes in its cgroup: without a pid namespace of its own, those
	// outlive its init (runc kills them too), and a create that was
	// killed may have left its init's C stage there.
	c.killAll()
	if err := c.destroy(); err != nil {
		return fmt.Errorf("delete container %q: %w", c.ID(), err)
	}
	return nil
}

// signalCgroup sends sig to every process of the cgroup. For SIGKILL the
// cgroup is frozen first, so that no process forks a child the kill would
// miss; a paused container (or a SIGKILL) is thawed after, so that the
// signal is acted upon.
func signalCgroup(m cgroups.Manager, sig unix.Signal, paused bool) error {
	if sig == unix.SIGKILL && cgroupKill(m) {
		return nil
	}
	frozeIt := false
	if sig == unix.SIGKILL && !paused {
		frozeIt = m.Freeze() == nil
	}
	pids, err := m.GetPids()
	if err != nil && !errors.Is(err, cgroups.ErrNotExist) {
		err = fmt.Errorf("kill all processes: %w", err)
		if frozeIt {
			if terr := m.Thaw(); terr != nil {
				err = errors.Join(err, terr)
			}
		}
		return err
	}
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("signal %d: %w", pid, err))
		}
	}
	if frozeIt || paused {
		if err := m.Thaw(); err != nil && !errors.Is(err, cgroups.ErrNotExist) {
			warnf("thaw after signalling every process: %v", err)
		}
	}
	return errors.Join(errs...)
}

// cgroupKill SIGKILLs every process of a cgroup v2 cgroup at once through
// cgroup.kill (Linux 5.14+), as runc 1.5 does: no process forked while a
// loop signals the others escapes. It reports false where there is no
// cgroup.kill (cgroup v1, older kernels): the caller signals pid by pid.
func cgroupKill(m cgroups.Manager) bool {
	paths := m.Paths()
	dir, ok := paths[""]
	if !ok || len(paths) != 1 {
		return false // v1 or hybrid: the v1 hierarchies hold the processes
	}
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.kill"), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	_, err = f.WriteString("1")
	f.Close()
	return err == nil
}

// killAll SIGKILLs the container's init and every process in its cgroup
// (see signalCgroup), and waits, bounded, until they are gone.
func (c *Container) killAll() {
	initAlive := processAlive(c.state.InitPid, c.state.InitStart)
	m, err := c.cgroupManager()
	if err != nil || !m.Exists() {
		m = nil
	}
	if initAlive {
		if err := c.signalInit(unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			warnf("kill container init: %v", err)
		}
		// With a pid namespace of its own (the common case) the init's
		// end takes every other process with it, and its pidfd tells
		// when: wait for that first rather than sweep a cgroup that is
		// still emptying. A frozen init acts on SIGKILL only once
		// thawed, which the sweep does.
		if m == nil {
			waitGone(c.state.InitPid, c.state.InitStart, 10*time.Second)
		} else if frozen, err := m.IsFrozen(); err == nil && !frozen {
			waitGone(c.state.InitPid, c.state.InitStart, time.Second)
		}
	}
	if m != nil {
		pause := 100 * time.Microsecond
		for i := 0; i < 100; i++ {
			pids, err := m.GetPids()
			if err != nil || len(pids) == 0 {
				break
			}
			if err := signalCgroup(m, unix.SIGKILL, false); err != nil {
				warnf("%v", err)
			}
			time.Sleep(pause)
			if pause < 5*time.Millisecond {
				pause *= 2
			}
		}
	}
	if initAlive {
		waitGone(c.state.InitPid, c.state.InitStart, 10*time.Second)
	}
}

// signalInit signals the container's init through a pidfd checked to be
// that very process (pid and start time), so that a pid recycled since
// the container stopped is never signalled.
func (c *Container) signalInit(sig unix.Signal) error {
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if !processAlive(c.state.InitPid, c.state.InitStart) {
		return unix.ESRCH
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}

// destroy removes everything the container has on the host and runs the
// poststop hooks (whose failures are warnings, as the spec says).
func (c *Container) destroy() error {
	var errs []error
	if m, err := c.cgroupManager(); err == nil {
		if err := m.Destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	if g := c.state.IntelRdt; g != nil {
		if err := g.Destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unbindRootfs(c.dir); err != nil {
		errs = append(errs, err)
	}
	// A config that cannot be read does not keep the container from going
	// (nor do its poststop hooks run: they are in it).
	poststop, err := c.poststopHooks()
	if err != nil && !(c.state.Creating && errors.Is(err, ErrNotExist)) {
		warnf("poststop hooks not run: %v", err)
	}
	c.runPoststop(poststop)
	if err := removeStateDir(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove state dir: %w", err))
	}
	return errors.Join(errs...)
}

// poststopHooks returns the container's poststop hooks: from its config
// if a command read it already, else from config.json through
// poststopView, which is all delete needs of it (decoding the whole
// config, the first time in a process, builds reflection tables for
// every type in it: ~0.5 ms of delete's CPU).
func (c *Container) poststopHooks() ([]specs.Hook, error) {
	if cfg := c.state.Config; cfg != nil {
		return cfg.Hooks.Poststop, nil
	}
	var v poststopView
	if err := readConfigInto(c.dir, &v); err != nil {
		return nil, fmt.Errorf("container %q: %w", c.state.ID, err)
	}
	return v.Hooks.Poststop, nil
}

// poststopView is the part of configs.Config that delete reads, with the
// same JSON names (TestPoststopViewReadsConfig).
type poststopView struct {
	Hooks struct {
		Poststop []specs.Hook `json:"poststop,omitempty"`
	} `json:"hooks"`
}

// runPoststop runs the poststop hooks hs (if any); a failure is a warning.
func (c *Container) runPoststop(hs []specs.Hook) {
	if len(hs) > 0 {
		st := c.ociState(Stopped)
		if err := hooks.RunAll("poststop", hs, st); err != nil {
			warnf("%v", err)
		}
	}
}

// RemoveStale removes a state directory that has no state.json (an
// aborted create), as runc's delete does.
func RemoveStale(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	d, err := lockDir(dir, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		return err
	}
	defer d.unlock()
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil
	}
	if err := unbindRootfs(dir); err != nil {
		return err
	}
	return removeStateDir(dir)
}
