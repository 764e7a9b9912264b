package main

import (
	"errors"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
)

var deleteCommand = cli.Command{
	Name:  "delete",
	Usage: "delete any resources held by the container often used with detached container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and rt list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the rt list of containers:

       # rt delete ubuntu01`,
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "force, f", Usage: "Forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		id, err := containerID(c)
		if err != nil {
			return err
		}
		force := c.Bool("force")
		ctr, err := libcontainer.Load(stateRoot(c), id)
		if err != nil {
			if errors.Is(err, libcontainer.ErrNotExist) {
				// An aborted create may have left a directory without
				// state.json: remove it, and with --force report success.
				if rerr := libcontainer.RemoveStale(stateRoot(c), id); rerr != nil {
					return rerr
				}
				if force {
					return nil
				}
			}
			return err
		}
		return ctr.Delete(force)
	},
}
