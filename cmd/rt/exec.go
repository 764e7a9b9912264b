package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer"
	"github.com/rt-runtime/rt/specconv"
)

var execCommand = cli.Command{
	Name:  "exec",
	Usage: "execute new process inside the container",
	ArgsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # rt exec <container-id> ps`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"},
		cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		cli.StringSliceFlag{Name: "env, e", Usage: "set environment variables"},
		cli.BoolFlag{Name: "tty, t", Usage: "allocate a pseudo-TTY"},
		cli.StringFlag{Name: "user, u", Usage: "UID (format: <uid>[:<gid>])"},
		cli.Int64SliceFlag{Name: "additional-gids, g", Usage: "additional gids"},
		cli.StringFlag{Name: "process, p", Usage: "path to the process.json"},
		cli.BoolFlag{Name: "detach, d", Usage: "detach from the container's process"},
		cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		cli.StringSliceFlag{Name: "cap, c", Usage: "add a capability to the bounding set for the process"},
		cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>."},
		cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	SkipArgReorder: true,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		// As runc: a failed exec exits 255 ("exec failed: ..."), so that
		// callers can tell it from the process's own exit status.
		if err := execAction(c); err != nil {
			fatalWithCode(fmt.Errorf("exec failed: %w", err), 255)
		}
		return nil
	},
}

// execAction runs `exec`; it exits with the process's status itself.
func execAction(c *cli.Context) error {
	t := time.Now()
	ctr, err := getContainer(c)
	if err != nil {
		return err
	}
	proc, err := execProcess(c, ctr)
	if err != nil {
		return err
	}
	if err := specconv.ValidateProcess(proc); err != nil {
		return err
	}
	libcontainer.DebugPhase("exec: load state and process", t)
	detach := c.Bool("detach")
	opts := &libcontainer.ExecOpts{
		Process:      proc,
		PreserveFds:  c.Int("preserve-fds"),
		IgnorePaused: c.Bool("ignore-paused"),
	}
	if cg := c.StringSlice("cgroup"); len(cg) > 1 {
		return errors.New("--cgroup: only one sub-cgroup is supported")
	} else if len(cg) == 1 {
		opts.SubCgroup = cg[0]
	}
	pio, err := ioFor(c, proc.Terminal, !detach, true)
	if err != nil {
		return err
	}
	defer pio.done()
	opts.IO, opts.ConsoleSocket, opts.PidfdSocket = pio.IO, pio.ConsoleSocket, pio.PidfdSocket
	if !detach {
		if err := libcontainer.SetSubreaper(); err != nil {
			return err
		}
	}
	// Caught while the process is being set up, to be forwarded to it.
	sigs, err := catchSignals(!detach)
	if err != nil {
		return err
	}
	t = time.Now()
	pid, err := ctr.Exec(opts)
	libcontainer.DebugPhase("exec: process started", t)
	pio.done()
	if err != nil {
		return err
	}
	if pidFile := c.String("pid-file"); pidFile != "" {
		if err := writePidFile(pidFile, pid); err != nil {
			return err
		}
	}
	tty, err := pio.attach()
	if err != nil {
		return err
	}
	if tty != nil {
		defer tty.restore()
	}
	if detach {
		return nil
	}
	t = time.Now()
	status, err := pio.waitForeground(sigs, pid,
		func() (int, error) { return libcontainer.WaitPid(pid) },
		func(sig unix.Signal) error { return libcontainer.SignalPid(pid, sig) }, tty)
	if err != nil {
		return err
	}
	libcontainer.DebugPhase("exec: process exited", t)
	os.Exit(status)
	return nil
}

// execProcess builds the process to exec: process.json from -p, or the
// container's own process with the command line's overrides.
func execProcess(c *cli.Context, ctr *libcontainer.Container) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("--process: parse %s: %w", path, err)
		}
		return &p, nil
	}
	args := c.Args()[1:]
	if len(args) == 0 {
		return nil, errors.New("exec args cannot be empty")
	}
	cfg, err := ctr.ExecConfig()
	if err != nil {
		return nil, err
	}
	base := *cfg.Process
	p := base
	p.Args = args
	p.Env = append([]string(nil), base.Env...)
	p.Env = append(p.Env, c.StringSlice("env")...)
	p.Terminal = c.Bool("tty")
	p.ConsoleSize = nil
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if ap := c.String("apparmor"); ap != "" {
		p.ApparmorProfile = ap
	}
	if l := c.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		cp := &specs.LinuxCapabilities{}
		if base.Capabilities != nil {
			*cp = *base.Capabilities
		}
		cp.Bounding = append(append([]string(nil), cp.Bounding...), caps...)
		cp.Effective = append(append([]string(nil), cp.Effective...), caps...)
		cp.Permitted = append(append([]string(nil), cp.Permitted...), caps...)
		// As runc: ambient too, when the process has an inheritable set
		// (an ambient capability must be inheritable to be raised; --cap
		// does not add to the inheritable set, CVE-2022-29162).
		if cp.Inheritable != nil {
			cp.Ambient = append(append([]string(nil), cp.Ambient...), caps...)
		}
		p.Capabilities = cp
	}
	if u := c.String("user"); u != "" {
		uid, gid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uid, GID: gid}
	}
	if c.IsSet("additional-gids") {
		p.User.AdditionalGids = nil
		for _, g := range c.Int64Slice("additional-gids") {
			if g < 0 || g > 1<<32-1 {
				return nil, fmt.Errorf("--additional-gids: invalid gid %d", g)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
		}
	}
	return &p, nil
}

// parseUser parses --user uid[:gid]: numeric ids only, never names (a
// container's /etc/passwd is not to be trusted: CVE-2016-3697).
func parseUser(s string) (uint32, uint32, error) {
	uidS, gidS, hasGid := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(uidS, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: uid must be a number", s)
	}
	gid := uint64(0)
	if hasGid {
		if gid, err = strconv.ParseUint(gidS, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("--user %q: gid must be a number", s)
		}
	}
	return uint32(uid), uint32(gid), nil
}
