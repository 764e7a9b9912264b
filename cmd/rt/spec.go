package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/network/netconf"
	"github.com/rt-runtime/rt/specconv"
)

// netHookName is the hook binary `rt spec --network bridge` refers to: it is
// looked up beside the rt binary.
const netHookName = "rt-net"

// specNetwork applies --network/--publish/--bridge/--subnet/--subnet6 to spec.
func specNetwork(c *cli.Context, spec *specs.Spec) error {
	mode := c.String("network")
	if mode == "" || mode == "none" {
		for _, f := range []string{"publish", "bridge", "subnet", "subnet6"} {
			if c.IsSet(f) {
				return fmt.Errorf("--%s needs --network bridge", f)
			}
		}
		return nil
	}
	if mode != "bridge" {
		return fmt.Errorf("--network %q: only \"bridge\" (or \"none\") is known", mode)
	}
	if c.Bool("rootless") {
		return errors.New("--network bridge needs root: it cannot go with --rootless")
	}
	ann := map[string]string{netconf.AnnNetwork: "bridge"}
	if c.IsSet("bridge") {
		ann[netconf.AnnBridge] = c.String("bridge")
	}
	if c.IsSet("subnet") {
		ann[netconf.AnnSubnet] = c.String("subnet")
	}
	if c.IsSet("subnet6") {
		ann[netconf.AnnSubnet6] = c.String("subnet6")
	}
	if p := c.StringSlice("publish"); len(p) > 0 {
		ann[netconf.AnnPublish] = strings.Join(p, ",")
	}
	cfg, err := netconf.Parse(ann)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the rt binary (to find %s beside it): %w", netHookName, err)
	}
	hook := filepath.Join(filepath.Dir(exe), netHookName)
	if fi, err := os.Stat(hook); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("--network bridge: the hook %s is not an executable file beside rt (build it with make)", hook)
	}
	return specconv.AddBridgeNetwork(spec, hook, cfg)
}

var specCommand = cli.Command{
	Name:      "spec",
	Usage:     "create a new specification file",
	ArgsUsage: "",
	Description: `The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "bundle, b", Value: "", Usage: "path to the root of the bundle directory"},
		cli.BoolFlag{Name: "rootless", Usage: "generate a configuration for a rootless container"},
		cli.StringFlag{Name: "network", Usage: "rt only: \"bridge\" adds the rt-net hook (bridge, veth, NAT; see docs/network.md)"},
		cli.StringSliceFlag{Name: "publish, p", Usage: "rt only, with --network bridge: publish [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp] (repeatable)"},
		cli.StringFlag{Name: "bridge", Usage: "rt only, with --network bridge: bridge name (default " + netconf.DefaultBridge + ")"},
		cli.StringFlag{Name: "subnet", Usage: "rt only, with --network bridge: IPv4 subnet of the bridge (default " + netconf.DefaultSubnet + ")"},
		cli.StringFlag{Name: "subnet6", Usage: "rt only, with --network bridge: IPv6 subnet of the bridge, /48 to /120 (dual stack; default none: IPv4 only)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, exactArgs); err != nil {
			return err
		}
		spec := specconv.Example()
		if c.Bool("rootless") {
			specconv.ToRootless(spec)
		}
		if err := specNetwork(c, spec); err != nil {
			return err
		}
		bundle := c.String("bundle")
		if bundle != "" {
			if fi, err := os.Stat(bundle); err != nil {
				return fmt.Errorf("bundle %s: %w", bundle, err)
			} else if !fi.IsDir() {
				return fmt.Errorf("bundle %s is not a directory", bundle)
			}
		}
		path := filepath.Join(bundle, "config.json")
		if _, err := os.Stat(path); err == nil {
			return errors.New("File " + path + " exists. Remove it first")
		}
		data, err := json.MarshalIndent(spec, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o666)
	},
}
