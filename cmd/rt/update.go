package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
)

var updateCommand = cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: `<container-id>`,
	Flags: []cli.Flag{
		cli.StringFlag{
			Name: "resources, r",
			Usage: `path to the file containing the resources to update or '-' to read from the standard input

The accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0,
    "checkBeforeUpdate": true
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "burst": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": "",
    "idle": 0
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.
`,
		},
		cli.IntFlag{Name: "blkio-weight", Usage: "Specifies per cgroup weight, range is from 10 to 1000"},
		cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
		cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
		cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period"},
		cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight vs. other containers)"},
		cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
		cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
		cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
		cli.StringFlag{Name: "cpuset-mems", Usage: "Memory node(s) to use"},
		cli.StringFlag{Name: "kernel-memory", Hidden: true, Usage: "(obsoleted; do not use)"},
		cli.StringFlag{Name: "kernel-memory-tcp", Hidden: true, Usage: "(obsoleted; do not use)"},
		cli.StringFlag{Name: "memory", Usage: "Memory limit (in bytes)"},
		cli.StringFlag{Name: "cpu-idle", Usage: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
		cli.StringFlag{Name: "memory-reservation", Usage: "Memory reservation or soft_limit (in bytes)"},
		cli.StringFlag{Name: "memory-swap", Usage: "Total memory usage (memory + swap); set '-1' to enable unlimited swap"},
		cli.IntFlag{Name: "pids-limit", Usage: "Maximum number of pids allowed in the container"},
		cli.StringFlag{Name: "l3-cache-schema", Usage: "The string of Intel RDT/CAT L3 cache schema"},
		cli.StringFlag{Name: "mem-bw-schema", Usage: "The string of Intel RDT/MBA memory bandwidth schema"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		var r *specs.LinuxResources
		if in := c.String("resources"); in != "" {
			r, err = readResources(in)
		} else {
			r, err = resourcesFromFlags(c)
		}
		if err != nil {
			return err
		}
		// rt has no Intel RDT support: the host never "has it enabled".
		if c.String("l3-cache-schema") != "" {
			return errors.New("Intel RDT/CAT: l3 cache schema is not enabled")
		}
		if c.String("mem-bw-schema") != "" {
			return errors.New("Intel RDT/MBA: memory bandwidth schema is not enabled")
		}
		return ctr.Update(r)
	},
}

// readResources decodes a LinuxResources JSON from path ("-": stdin).
func readResources(path string) (*specs.LinuxResources, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	r := &specs.LinuxResources{}
	if err := json.NewDecoder(in).Decode(r); err != nil {
		return nil, fmt.Errorf("decode resources from %s: %w", path, err)
	}
	warnKernelMemory(r)
	return r, nil
}

// resourcesFromFlags builds the update from the individual flags, with
// runc's parsing: memory values take units ("64M"), -1 is unlimited.
func resourcesFromFlags(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
		Pids:    &specs.LinuxPids{},
	}
	if v := c.Int("blkio-weight"); v != 0 {
		w := uint16(v)
		r.BlockIO.Weight = &w
	}
	r.CPU.Cpus = c.String("cpuset-cpus")
	r.CPU.Mems = c.String("cpuset-mems")
	if v := c.String("cpu-idle"); v != "" {
		idle, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid value for cpu-idle: %w", err)
		}
		r.CPU.Idle = &idle
	}
	for _, f := range []struct {
		opt  string
		dest **uint64
	}{
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-period", &r.CPU.Period},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
		{"cpu-share", &r.CPU.Shares},
	} {
		if v := c.String(f.opt); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.opt, err)
			}
			*f.dest = &n
		}
	}
	for _, f := range []struct {
		opt  string
		dest **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
	} {
		if v := c.String(f.opt); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.opt, err)
			}
			*f.dest = &n
		}
	}
	for _, f := range []struct {
		opt  string
		dest **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-swap", &r.Memory.Swap},
		{"kernel-memory", &r.Memory.Kernel},
		{"kernel-memory-tcp", &r.Memory.KernelTCP},
		{"memory-reservation", &r.Memory.Reservation},
	} {
		if v := c.String(f.opt); v != "" {
			n := int64(-1)
			if v != "-1" {
				var err error
				if n, err = ramInBytes(v); err != nil {
					return nil, fmt.Errorf("invalid value for %s: %w", f.opt, err)
				}
			}
			*f.dest = &n
		}
	}
	if c.IsSet("pids-limit") {
		limit := int64(c.Int("pids-limit"))
		r.Pids.Limit = &limit
	}
	warnKernelMemory(r)
	return r, nil
}

// warnKernelMemory: kernel memory limits are obsolete; runc warns and
// ignores them (the merge drops them).
func warnKernelMemory(r *specs.LinuxResources) {
	if r.Memory != nil && (r.Memory.Kernel != nil || r.Memory.KernelTCP != nil) { //nolint:staticcheck // deprecated fields are still accepted
		logrus.Warn("Kernel memory settings are ignored and will be removed")
	}
}
