package main

import (
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
)

var createFlags = []cli.Flag{
	cli.StringFlag{Name: "bundle, b", Value: "", Usage: `path to the root of the bundle directory, defaults to the current directory`},
	cli.StringFlag{Name: "console-socket", Value: "", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
	cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"},
	cli.StringFlag{Name: "pid-file", Value: "", Usage: "specify the file to write the process id to"},
	cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"},
	cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key"},
	cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
}

var createCommand = cli.Command{
	Name:  "create",
	Usage: "create a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Description: `The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.`,
	Flags: createFlags,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		_, _, _, err := createContainer(c, false, false)
		return err
	},
}

// stdioDrain bounds the wait for a foreground process's output after it
// exited (what it left behind may keep the pipes open).
const stdioDrain = 2 * time.Second

// createContainer runs create for the create and run commands; in the
// foreground (run), the process's stdio and console are rt's to attach
// (the procIO returned). With start (run), the create also starts the
// container, unless it has a terminal (to be attached first): started.
func createContainer(c *cli.Context, foreground, start bool) (ctr *libcontainer.Container, pio *procIO, started bool, err error) {
	id, err := containerID(c)
	if err != nil {
		return nil, nil, false, err
	}
	if err := libcontainer.ValidateID(id); err != nil {
		return nil, nil, false, err
	}
	t := time.Now()
	cfg, err := loadConfig(c, id)
	if err != nil {
		return nil, nil, false, err
	}
	libcontainer.DebugPhase("load and convert config.json", t)
	opts := &libcontainer.CreateOpts{
		Root:        stateRoot(c),
		Config:      cfg,
		PreserveFds: c.Int("preserve-fds"),
		Start:       start && !cfg.Process.Terminal,
	}
	rootless, err := isRootless(c)
	if err != nil {
		return nil, nil, false, err
	}
	opts.IgnoreCgroupPermission = rootless
	if n, err := strconv.Atoi(os.Getenv("LISTEN_FDS")); err == nil && n > 0 {
		opts.PreserveFds += n
	}
	if opts.PreserveFds < 0 {
		return nil, nil, false, errors.New("--preserve-fds must not be negative")
	}
	pio, err = ioFor(c, cfg.Process.Terminal, foreground, true)
	if err != nil {
		return nil, nil, false, err
	}
	opts.IO, opts.ConsoleSocket, opts.PidfdSocket = pio.IO, pio.ConsoleSocket, pio.PidfdSocket
	ctr, err = libcontainer.Create(opts)
	pio.done()
	if err != nil {
		return nil, nil, false, err
	}
	if pidFile := c.String("pid-file"); pidFile != "" {
		if err := writePidFile(pidFile, ctr.InitPid()); err != nil {
			return nil, nil, false, abandon(ctr, err)
		}
	}
	return ctr, pio, opts.Start, nil
}
