package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer"
)

var checkpointCommand = cli.Command{
	Name:  "checkpoint",
	Usage: "checkpoint a running container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
	Description: `The checkpoint command saves the state of the container instance.`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "image-path", Value: "", Usage: "path for saving criu image files"},
		cli.StringFlag{Name: "work-path", Value: "", Usage: "path for saving work files and logs"},
		cli.StringFlag{Name: "parent-path", Value: "", Usage: "path for previous criu image files in pre-dump"},
		cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this FD once lazy-pages is ready"},
		cli.StringFlag{Name: "page-server", Value: "", Usage: "ADDRESS:PORT of the page server"},
		cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		cli.BoolFlag{Name: "pre-dump", Usage: "dump container's memory information only, leave the container running after this"},
		cli.StringFlag{Name: "manage-cgroups-mode", Value: "", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
		cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
		cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		if os.Geteuid() != 0 {
			logrus.Warn("rt checkpoint is untested with rootless containers")
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		opts, err := criuOptions(c)
		if err != nil {
			return err
		}
		return ctr.Checkpoint(opts)
	},
}

// prepareImagePaths returns --image-path (default ./checkpoint, created)
// and --parent-path (relative to it, must exist), as runc checks them.
func prepareImagePaths(c *cli.Context) (string, string, error) {
	imagePath := c.String("image-path")
	if imagePath == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		imagePath = filepath.Join(wd, "checkpoint")
	}
	if err := os.MkdirAll(imagePath, 0o600); err != nil {
		return "", "", fmt.Errorf("--image-path: %w", err)
	}
	parentPath := c.String("parent-path")
	if parentPath == "" {
		return imagePath, "", nil
	}
	if filepath.IsAbs(parentPath) {
		return "", "", errors.New("--parent-path must be relative")
	}
	realParent := filepath.Join(imagePath, parentPath)
	fi, err := os.Stat(realParent)
	if err == nil && !fi.IsDir() {
		err = &os.PathError{Op: "stat", Path: realParent, Err: unix.ENOTDIR}
	}
	if err != nil {
		return "", "", fmt.Errorf("invalid --parent-path: %w", err)
	}
	return imagePath, parentPath, nil
}

// criuOptions reads the flags checkpoint and restore share.
func criuOptions(c *cli.Context) (*libcontainer.CriuOpts, error) {
	imagePath, parentPath, err := prepareImagePaths(c)
	if err != nil {
		return nil, err
	}
	o := &libcontainer.CriuOpts{
		ImagesDirectory:         imagePath,
		WorkDirectory:           c.String("work-path"),
		ParentImage:             parentPath,
		LeaveRunning:            c.Bool("leave-running"),
		TCPEstablished:          c.Bool("tcp-established"),
		ExternalUnixConnections: c.Bool("ext-unix-sk"),
		ShellJob:                c.Bool("shell-job"),
		FileLocks:               c.Bool("file-locks"),
		PreDump:                 c.Bool("pre-dump"),
		AutoDedup:               c.Bool("auto-dedup"),
		LazyPages:               c.Bool("lazy-pages"),
		StatusFd:                -1,
		ManageCgroupsMode:       c.String("manage-cgroups-mode"),
		LsmProfile:              c.String("lsm-profile"),
		LsmMountContext:         c.String("lsm-mount-context"),
	}
	if c.IsSet("status-fd") {
		o.StatusFd = c.Int("status-fd")
	}
	if ps := c.String("page-server"); ps != "" {
		addr, port, err := net.SplitHostPort(ps)
		if err != nil || addr == "" || port == "" {
			return nil, errors.New("Use --page-server ADDRESS:PORT to specify page server")
		}
		p, err := strconv.Atoi(port)
		if err != nil || p <= 0 || p > 65535 {
			return nil, errors.New("Invalid port number")
		}
		o.PageServerAddress, o.PageServerPort = addr, int32(p)
	}
	switch m := o.ManageCgroupsMode; m {
	case "", "soft", "full", "strict", "ignore":
	default:
		return nil, errors.New("Invalid manage-cgroups-mode value")
	}
	// As runc: network devices are not rt's to manage, so criu always
	// treats the network namespace as empty.
	mask := uint32(unix.CLONE_NEWNET)
	for _, ns := range c.StringSlice("empty-ns") {
		switch specs.LinuxNamespaceType(ns) {
		case specs.NetworkNamespace:
			mask |= unix.CLONE_NEWNET
		default:
			return nil, fmt.Errorf("namespace %q is not supported", ns)
		}
	}
	o.EmptyNs = mask
	return o, nil
}
