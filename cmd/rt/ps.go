package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer/nsenter"
)

var psCommand = cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: `<container-id> [ps options]`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: `select one of: table or json`},
	},
	// Everything after the id goes to ps(1), "-o pid" included.
	SkipArgReorder: true,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		pids, err := ctr.Processes()
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "table":
		case "json":
			// No process encodes as null, as runc prints it.
			return json.NewEncoder(os.Stdout).Encode(pids)
		default:
			return errors.New("invalid format option")
		}
		psArgs := []string(c.Args())[1:]
		if len(psArgs) == 0 {
			psArgs = []string{"-ef"}
		}
		cmd := exec.Command("ps", psArgs...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = nsenter.WithChildTimerSlack(cmd.Start)
		if err == nil {
			err = cmd.Wait()
		}
		if err != nil {
			return fmt.Errorf("%w: %s", err, out.Bytes())
		}
		return filterPsOutput(os.Stdout, out.String(), pids)
	},
}

// filterPsOutput writes the header of ps's output and the lines whose
// PID column is one of pids.
func filterPsOutput(w io.Writer, out string, pids []int) error {
	lines := strings.Split(out, "\n")
	pidIndex, err := pidColumn(lines[0])
	if err != nil {
		return err
	}
	in := make(map[int]bool, len(pids))
	for _, p := range pids {
		in[p] = true
	}
	fmt.Fprintln(w, lines[0])
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if pidIndex >= len(fields) {
			return fmt.Errorf("unable to parse pid: line %q has no column %d", line, pidIndex+1)
		}
		p, err := strconv.Atoi(fields[pidIndex])
		if err != nil {
			return fmt.Errorf("unable to parse pid: %w", err)
		}
		if in[p] {
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// pidColumn finds the PID column in ps's header line.
func pidColumn(header string) (int, error) {
	for i, name := range strings.Fields(header) {
		if name == "PID" {
			return i, nil
		}
	}
	return -1, errors.New("couldn't find PID field in ps output")
}
