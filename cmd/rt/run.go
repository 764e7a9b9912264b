package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer"
)

var runCommand = cli.Command{
	Name:  "run",
	Usage: "create and run a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Description: `The run command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.`,
	Flags: append([]cli.Flag{
		cli.BoolFlag{Name: "detach, d", Usage: "detach from the container's process"},
		cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
	}, createFlags...),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		detach := c.Bool("detach")
		if !detach && !c.Bool("no-subreaper") {
			// The container's init is re-parented to us once rt's
			// intermediate process exits: we wait for it and get its status.
			if err := libcontainer.SetSubreaper(); err != nil {
				return err
			}
		}
		// Caught while the container is being created, and before it
		// starts, to be forwarded to it.
		sigs, err := catchSignals(!detach)
		if err != nil {
			return err
		}
		ctr, pio, started, err := createContainer(c, !detach, true)
		if err != nil {
			return err
		}
		tty, err := pio.attach()
		if err != nil {
			return abandon(ctr, err)
		}
		if tty != nil {
			defer tty.restore()
		}
		if !started {
			if err := ctr.Start(); err != nil {
				return abandon(ctr, err)
			}
		}
		if detach {
			return nil
		}
		status, werr := pio.waitForeground(sigs, ctr.InitPid(), ctr.Wait,
			func(sig unix.Signal) error { return ctr.Signal(sig, false) }, tty)
		if !c.Bool("keep") {
			if err := ctr.Delete(true); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
		if werr != nil {
			return werr
		}
		os.Exit(status)
		return nil
	},
}
