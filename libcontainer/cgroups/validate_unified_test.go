package cgroups

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateUnifiedKeys(t *testing.T) {
	for k, v := range map[string]string{"memory.high": "1G", "cgroup.max.depth": "3", "io.max": "8:0 rbps=1\n8:16 wbps=2", "misc.max": "x 1"} {
		if err := validateUnified(map[string]string{k: v}); err != nil {
			t.Errorf("%q=%q: %v", k, v, err)
		}
	}
	for _, tc := range []struct{ k, v, want string }{
		{"../memory.max", "1", `linux.resources.unified["../memory.max"]: not a cgroup v2 interface file name`},
		{"memory..max", "1", `linux.resources.unified["memory..max"]: not a cgroup v2`},
		{"memory", "1", `linux.resources.unified["memory"]: not a cgroup v2`},
		{"memory.", "1", `linux.resources.unified["memory."]: not a cgroup v2`},
		{"foo.bar", "1", `linux.resources.unified["foo.bar"]: unknown cgroup v2 controller "foo"`},
		{"memory.max", " ", `linux.resources.unified["memory.max"]: empty value`},
	} {
		err := validateUnified(map[string]string{tc.k: tc.v})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want prefix %q", tc.k, err, tc.want)
		}
	}
}

// v2-only settings (cpu.idle, cpu.burst, unified) pass validation.
func TestValidateAcceptsV2Fields(t *testing.T) {
	idle, burst := int64(1), uint64(1000)
	r := &specs.LinuxResources{
		CPU:     &specs.LinuxCPU{Idle: &idle, Burst: &burst},
		Unified: map[string]string{"memory.high": "64M", "pids.max": "10"},
	}
	if err := validateResources(r, testHost); err != nil {
		t.Fatal(err)
	}
}
