package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
)

var listCommand = cli.Command{
	Name:  "list",
	Usage: "lists containers started by rt with the given root",
	ArgsUsage: `

Where the given root is specified via the global option "--root"
(default: "/run/rt").`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: `select one of: table or json (default: "table")`},
		cli.BoolFlag{Name: "quiet, q", Usage: "display only container IDs"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, exactArgs); err != nil {
			return err
		}
		ctrs, err := libcontainer.List(stateRoot(c))
		if err != nil {
			// As runc: a missing default root means no container was
			// created yet; a missing --root given by the caller is an error.
			if !errors.Is(err, os.ErrNotExist) || c.GlobalIsSet("root") {
				return err
			}
		}
		if c.Bool("quiet") {
			out := bufio.NewWriter(os.Stdout)
			for _, ctr := range ctrs {
				fmt.Fprintln(out, ctr.ID())
			}
			return out.Flush()
		}
		var states []containerState // nil when empty: runc prints null
		if len(ctrs) > 0 {
			states = make([]containerState, len(ctrs))
			libcontainer.Parallel(len(ctrs), func(i int) { states[i] = stateOf(ctrs[i]) })
		}
		switch f := c.String("format"); f {
		case "table":
			// Buffered: tabwriter writes each cell on its own.
			out := bufio.NewWriter(os.Stdout)
			w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
					s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return out.Flush()
		case "json":
			return json.NewEncoder(os.Stdout).Encode(states)
		default:
			return fmt.Errorf("invalid format option %q", f)
		}
	},
}
