// Command rt-net is rt's bridge network as an OCI hook: `rt-net setup` at
// createRuntime, `rt-net teardown` at poststop (the container's state JSON
// on stdin, its configuration in the bundle's rt.network* annotations), and
// `rt-net gc` to remove what containers that no longer exist left behind.
// It is a separate binary so that rt itself does not carry netlink and
// nftables code, and so that any runtime or engine can use it.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/network/bridgenet"
)

const usage = `usage: rt-net [--state-dir DIR] setup|teardown|gc

  setup     (createRuntime hook) connect the container of the state on stdin
  teardown  (poststop hook) remove its veth, netfilter table and address lease
  gc        remove leases, tables and veths of containers that no longer exist
`

// maxState bounds the state JSON read from stdin.
const maxState = 1 << 20

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rt-net:", err)
		os.Exit(1)
	}
}

func readState(r io.Reader) (*specs.State, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxState+1))
	if err != nil {
		return nil, fmt.Errorf("read state from stdin: %w", err)
	}
	if len(data) > maxState {
		return nil, fmt.Errorf("state on stdin is larger than %d bytes", maxState)
	}
	var st specs.State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("parse state on stdin: %w", err)
	}
	if st.ID == "" {
		return nil, errors.New("state on stdin has no id")
	}
	return &st, nil
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("rt-net", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("state-dir", bridgenet.DefaultStateDir, "directory of the lock and the address leases")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one verb\n%s", usage)
	}
	n := bridgenet.New(*dir)
	n.Warn = os.Stderr
	n.CrashAfter = os.Getenv("RT_NET_CRASH_AFTER")
	if path := os.Getenv("RT_NET_TRACE"); path != "" {
		var line strings.Builder
		start := time.Now()
		n.StartTrace(func(step string, d time.Duration) {
			fmt.Fprintf(&line, " %s=%.2f", step, float64(d.Microseconds())/1000)
		})
		defer func() {
			fmt.Fprintf(&line, " total=%.2f\n", float64(time.Since(start).Microseconds())/1000)
			if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
				f.WriteString(fs.Arg(0) + line.String())
				f.Close()
			}
		}()
	}
	switch fs.Arg(0) {
	case "setup":
		st, err := readState(stdin)
		if err != nil {
			return err
		}
		if err := n.Setup(st); err != nil {
			return fmt.Errorf("setup %q: %w", st.ID, err)
		}
	case "teardown":
		st, err := readState(stdin)
		if err != nil {
			return err
		}
		if err := n.Teardown(st.ID); err != nil {
			return fmt.Errorf("teardown %q: %w", st.ID, err)
		}
	case "gc":
		removed, err := n.Collect()
		sort.Strings(removed)
		for _, id := range removed {
			fmt.Fprintln(stdout, id)
		}
		if err != nil {
			return fmt.Errorf("gc: %w", err)
		}
	default:
		return fmt.Errorf("unknown verb %q\n%s", fs.Arg(0), usage)
	}
	return nil
}
