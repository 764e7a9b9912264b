// The runtime's periodic re-read of the cgroup CPU limit (to update
// GOMAXPROCS) is off: rt is short-lived, or waits, and the goroutine and
// sysmon's checks for it cost every command.
//
//go:debug updatemaxprocs=0

// Command rt is an OCI container runtime with runc's command line.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
	_ "github.com/rt-runtime/rt/libcontainer/nsenter"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
)

// Set by the linker (see Makefile).
var (
	version = "0.1.0"
	commit  = ""
)

func init() {
	// `rt init` is the container's init, re-executed by rt itself; the C
	// stage in package nsenter has already run. Keep it on one thread.
	if libcontainer.IsInit() {
		// (rt starts it with GOMAXPROCS=1 in its environment.)
		runtime.LockOSThread()
	}
}

const usage = `Open Container Initiative runtime

rt is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format, with the command line of runc.

To start a new instance of a container:

    # rt run [ -b bundle ] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host. Providing the bundle directory using "-b" is optional. The default
value for "bundle" is the current directory.`

func init() {
	// No allocation sampling: nothing here reads a memory profile, and a
	// sample costs a stack unwind (the first, the profile's hash table).
	runtime.MemProfileRate = 0
}

func main() {
	if libcontainer.IsInit() {
		libcontainer.Init()
		return
	}
	app := newApp()
	cli.ErrWriter = &fatalWriter{cli.ErrWriter}
	if err := setInitTimeout(os.Getenv("RT_INIT_TIMEOUT")); err != nil {
		fatal(err)
	}
	if err := app.Run(os.Args); err != nil {
		fatal(err)
	}
}

// setInitTimeout applies RT_INIT_TIMEOUT (a Go duration, "30s", "5m"): how
// long rt waits for each message of a container's init before it kills it
// (libcontainer.InitAnswerBound; docs/runc-compat.md). Empty: the default.
func setInitTimeout(v string) error {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("RT_INIT_TIMEOUT=%q: want a positive duration such as 30s or 5m", v)
	}
	libcontainer.InitAnswerBound = d
	return nil
}

// configureLogging sets logrus up as runc does: --log FILE, --log-format,
// --debug.
// newApp defines rt's command line: global flags, commands and help. The
// man pages and the bash completion are generated from it (man_test.go),
// so they say what --help says.
func newApp() *cli.App {
	app := cli.NewApp()
	app.Name = "rt"
	app.Usage = usage
	v := []string{version}
	if commit != "" {
		v = append(v, "commit: "+commit)
	} else {
		v = append(v, "commit: unknown")
	}
	v = append(v, "spec: "+specs.Version, "go: "+runtime.Version())
	if seccomp.Enabled() {
		v = append(v, "libseccomp: "+seccomp.Version())
	}
	app.Version = strings.Join(v, "\n")
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "%s version %s\n", c.App.Name, c.App.Version)
	}
	root := "/run/rt"
	if os.Geteuid() != 0 {
		if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
			root = xdg + "/rt"
		}
	}
	app.Flags = []cli.Flag{
		cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		cli.StringFlag{Name: "log", Value: "", Usage: "set the log file to write rt logs to (default is '/dev/stderr')"},
		cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
		cli.StringFlag{Name: "root", Value: root, Usage: "root directory for storage of container state (this should be located in tmpfs)"},
		cli.StringFlag{Name: "criu", Value: "criu", Hidden: true, Usage: "(obsoleted, ignored)"},
		cli.BoolFlag{Name: "systemd-cgroup", Usage: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\""},
		cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
	}
	app.Commands = []cli.Command{
		checkpointCommand,
		createCommand,
		deleteCommand,
		eventsCommand,
		execCommand,
		featuresCommand,
		killCommand,
		listCommand,
		pauseCommand,
		psCommand,
		restoreCommand,
		resumeCommand,
		runCommand,
		specCommand,
		startCommand,
		stateCommand,
		updateCommand,
	}
	app.Before = func(c *cli.Context) error {
		// (IsSet walks every flag by reflection: asked only with RT_ROOT.)
		if env := os.Getenv("RT_ROOT"); env != "" && !c.IsSet("root") {
			c.GlobalSet("root", env)
		}
		return configureLogging(c)
	}
	return app
}

func configureLogging(c *cli.Context) error {
	if c.GlobalBool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := c.GlobalString("log-format"); f {
	case "", "text":
		logrus.SetFormatter(&logrus.TextFormatter{})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("unknown log-format %q", f)
	}
	if path := c.GlobalString("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file %s: %w", path, err)
		}
		logrus.SetOutput(f)
		logToFile = true
	}
	return nil
}

var logToFile bool

// fatal reports err and exits 1: one logrus line in the log (runc's JSON
// format there is what engines read) and the plain message on stderr.
func fatal(err error) {
	fatalWithCode(err, 1)
}

// fatalWithCode is fatal with exit status code.
func fatalWithCode(err error, code int) {
	msg := clipMessage(err.Error())
	if logToFile {
		logrus.Error(msg)
	}
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// maxMessage bounds an error message: a value echoed in it (a path, an
// argument) must not turn one line into megabytes.
const maxMessage = 4096

// clipMessage shortens msg to maxMessage bytes, saying how long it was.
func clipMessage(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + fmt.Sprintf("... (message of %d bytes clipped)", len(msg))
}

// fatalWriter sends urfave/cli's own error output (bad usage) to the log
// too, so engines see it.
type fatalWriter struct{ w io.Writer }

func (f *fatalWriter) Write(p []byte) (int, error) {
	if logToFile {
		logrus.Error(strings.TrimSpace(string(p)))
	}
	return f.w.Write(p)
}
