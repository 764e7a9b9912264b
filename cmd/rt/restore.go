package main

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer"
)

var restoreCommand = cli.Command{
	Name:  "restore",
	Usage: "restore a container from a previous checkpoint",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
	Description: `Restores the saved state of the container instance that was previously saved
using the rt checkpoint command.`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Value: "", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		cli.StringFlag{Name: "image-path", Value: "", Usage: "path to criu image files for restoring"},
		cli.StringFlag{Name: "work-path", Value: "", Usage: "path for saving work files and logs"},
		cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		cli.StringFlag{Name: "manage-cgroups-mode", Value: "", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
		cli.StringFlag{Name: "bundle, b", Value: "", Usage: "path to the root of the bundle directory"},
		cli.BoolFlag{Name: "detach,d", Usage: "detach from the container's process"},
		cli.StringFlag{Name: "pid-file", Value: "", Usage: "specify the file to write the process id to"},
		cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
		cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"},
		cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
		cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
		cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		cli.StringFlag{Name: "lsm-profile", Value: "", Usage: "Specify an LSM profile to be used during restore in the form of TYPE:NAME."},
		cli.StringFlag{Name: "lsm-mount-context", Value: "", Usage: "Specify an LSM mount context to be used during restore."},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		if os.Geteuid() != 0 {
			logrus.Warn("rt restore is untested with rootless containers")
		}
		id, err := containerID(c)
		if err != nil {
			return err
		}
		if err := libcontainer.ValidateID(id); err != nil {
			return err
		}
		opts, err := criuOptions(c)
		if err != nil {
			return err
		}
		cfg, err := loadConfig(c, id)
		if err != nil {
			return err
		}
		detach := c.Bool("detach")
		if !detach && !c.Bool("no-subreaper") {
			if err := libcontainer.SetSubreaper(); err != nil {
				return err
			}
		}
		sigs, err := catchSignals(!detach)
		if err != nil {
			return err
		}
		// criu gives the restored process rt's stdio as they are (no
		// proxy: its pipes are re-attached to them).
		pio, err := ioFor(c, cfg.Process.Terminal, !detach, false)
		if err != nil {
			return err
		}
		defer pio.done()
		ro := &libcontainer.RestoreOpts{
			Root:          stateRoot(c),
			Config:        cfg,
			IO:            pio.IO,
			ConsoleSocket: pio.ConsoleSocket,
			Criu:          opts,
		}
		ctr, err := libcontainer.Restore(ro)
		pio.done()
		if err != nil {
			return err
		}
		if pidFile := c.String("pid-file"); pidFile != "" {
			if err := writePidFile(pidFile, ctr.InitPid()); err != nil {
				return abandon(ctr, err)
			}
		}
		if detach {
			return nil
		}
		tty, err := pio.attach()
		if err != nil {
			return abandon(ctr, err)
		}
		if tty != nil {
			defer tty.restore()
		}
		status, werr := pio.waitForeground(sigs, ctr.InitPid(), ctr.Wait,
			func(sig unix.Signal) error { return ctr.Signal(sig, false) }, tty)
		if err := ctr.Delete(true); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		if werr != nil {
			return werr
		}
		os.Exit(status)
		return nil
	},
}
