package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer/apparmor"
	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/seccomp"
	"github.com/rt-runtime/rt/libcontainer/system"
	"github.com/rt-runtime/rt/specconv"
)

var featuresCommand = cli.Command{
	Name:      "features",
	Usage:     "show the enabled features",
	ArgsUsage: "",
	Description: `Show the enabled features.
   The result is parsable as a JSON.
   See https://github.com/opencontainers/runtime-spec/blob/main/features.md for the type definition.`,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, exactArgs); err != nil {
			return err
		}
		t, f := true, false
		feat := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
			MountOptions:  specconv.MountOptions(),
			Linux: &features.Linux{
				Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
				Capabilities: capabilities.Known(),
				Cgroup: &features.Cgroup{
					V1:          &t,
					V2:          &t,
					Systemd:     &t,
					SystemdUser: &t,
					Rdma:        &t,
				},
				Apparmor:        &features.Apparmor{Enabled: boolPtr(apparmor.IsEnabled())},
				Selinux:         &features.Selinux{Enabled: &f},
				IntelRdt:        &features.IntelRdt{Enabled: &t, Schemata: &t, Monitoring: &t},
				MemoryPolicy:    &features.MemoryPolicy{Modes: system.MemoryPolicyModes(), Flags: system.MemoryPolicyFlags()},
				MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}},
				NetDevices:      &features.NetDevices{Enabled: &t},
			},
			Annotations: map[string]string{
				"org.opencontainers.rt.version": version,
				// As runc's org.opencontainers.runc.checkpoint.enabled:
				// rt has checkpoint/restore (criu is found through PATH).
				"org.opencontainers.rt.checkpoint.enabled": "true",
			},
			PotentiallyUnsafeConfigAnnotations: []string{"bundle", "org.systemd.property."},
		}
		if seccomp.Enabled() {
			sf := seccomp.GetFeatures()
			feat.Linux.Seccomp = &features.Seccomp{
				Enabled:        &t,
				Actions:        sf.Actions,
				Operators:      sf.Operators,
				Archs:          sf.Archs,
				KnownFlags:     sf.KnownFlags,
				SupportedFlags: sf.SupportedFlags,
			}
			feat.Annotations["io.github.seccomp.libseccomp.version"] = seccomp.Version()
		} else {
			feat.Linux.Seccomp = &features.Seccomp{Enabled: &f}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(feat)
	},
}

func boolPtr(b bool) *bool { return &b }
