package main

import (
	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
)

var startCommand = cli.Command{
	Name:  "start",
	Usage: "executes the user defined process in a created container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Description: `The start command executes the user defined process in a created container.`,
	Action:      onContainer((*libcontainer.Container).Start),
}
