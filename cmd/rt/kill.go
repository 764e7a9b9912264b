package main

import (
	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

var killCommand = cli.Command{
	Name:  "kill",
	Usage: "kill sends the specified signal (default: SIGTERM) to the container's init process",
	ArgsUsage: `<container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # rt kill ubuntu01 KILL`,
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "all, a", Hidden: true, Usage: "(obsoleted, do not use) send the specified signal to all processes inside the container"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		if err := checkArgs(c, 2, maxArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		sigstr := c.Args().Get(1)
		if sigstr == "" {
			sigstr = "SIGTERM"
		}
		sig, err := utils.ParseSignal(sigstr)
		if err != nil {
			return err
		}
		return ctr.Signal(sig, c.Bool("all"))
	},
}
