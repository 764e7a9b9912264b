package fs1

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// pidsMaxValue formats a spec pids limit for pids.max: a negative limit
// is "max" (the spec's -1); 0 is a real limit (runtime-spec 1.3: "0 is a
// valid limit value ... SHOULD be treated as such").
func pidsMaxValue(limit int64) string {
	if limit < 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}

func setPids(dir string, p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil {
		return nil
	}
	if err := cgutil.WriteFile(dir, "pids.max", pidsMaxValue(*p.Limit)); err != nil {
		return fmt.Errorf("linux.resources.pids.limit: %w", err)
	}
	return nil
}
