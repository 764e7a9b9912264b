package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/utils"
	"github.com/rt-runtime/rt/specconv"
)

const (
	exactArgs = iota
	minArgs
	maxArgs
)

// checkArgs checks the number of positional arguments, as runc does.
func checkArgs(c *cli.Context, expected, check int) error {
	var err error
	cmd := c.Command.Name
	switch check {
	case exactArgs:
		if c.NArg() != expected {
			err = fmt.Errorf("%s: %q requires exactly %d argument(s)", os.Args[0], cmd, expected)
		}
	case minArgs:
		if c.NArg() < expected {
			err = fmt.Errorf("%s: %q requires a minimum of %d argument(s)", os.Args[0], cmd, expected)
		}
	case maxArgs:
		if c.NArg() > expected {
			err = fmt.Errorf("%s: %q requires a maximum of %d argument(s)", os.Args[0], cmd, expected)
		}
	}
	if err != nil {
		fmt.Printf("Incorrect Usage.\n\n")
		cli.ShowCommandHelp(c, cmd)
		return err
	}
	return nil
}

func stateRoot(c *cli.Context) string {
	root := c.GlobalString("root")
	if abs, err := filepath.Abs(root); err == nil {
		return abs
	}
	return root
}

// containerID returns the first positional argument.
func containerID(c *cli.Context) (string, error) {
	id := c.Args().First()
	if id == "" {
		return "", errors.New("container id cannot be empty")
	}
	return id, nil
}

func getContainer(c *cli.Context) (*libcontainer.Container, error) {
	id, err := containerID(c)
	if err != nil {
		return nil, err
	}
	return libcontainer.Load(stateRoot(c), id)
}

// loadConfig reads the bundle's config.json and converts it.
func loadConfig(c *cli.Context, id string) (*configs.Config, error) {
	bundle := c.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("bundle %s: not a directory", bundle)
	}
	spec, err := specconv.LoadSpec(abs)
	if err != nil {
		return nil, err
	}
	cfg, err := specconv.Convert(spec, abs, specconv.Options{
		ID:            id,
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		SystemdCgroup: c.GlobalBool("systemd-cgroup"),
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// isRootless reads --rootless (true, false or auto: rootless when rt does
// not run as root).
func isRootless(c *cli.Context) (bool, error) {
	switch v := c.GlobalString("rootless"); v {
	case "", "auto":
		return os.Geteuid() != 0, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("invalid --rootless value %q: want true, false or auto", v)
	}
}

// onContainer is the Action of commands that take exactly one container id
// and call one method of it (start, pause, resume).
func onContainer(do func(*libcontainer.Container) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		return do(ctr)
	}
}

// writePidFile writes pid to path, made absolute first (as runc), with an
// atomic rename so a reader never sees a partial file.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err == nil {
		err = utils.AtomicWriteFile(abs, []byte(strconv.Itoa(pid)), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write pid file %s: %w", path, err)
	}
	return nil
}

// abandon removes ctr after a failure err of the command and returns err.
// A failure to remove it is logged, not lost, and does not hide err (whose
// text engines match).
func abandon(ctr *libcontainer.Container, err error) error {
	if derr := ctr.Delete(true); derr != nil {
		logrus.Warnf("remove container %s after the failure: %v", ctr.ID(), derr)
	}
	return err
}
