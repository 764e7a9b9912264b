package specconv

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckSizes(t *testing.T) {
	ok := &specs.Spec{
		Hostname: strings.Repeat("h", 64),
		Process:  &specs.Process{Args: []string{strings.Repeat("a", 128<<10)}, Cwd: "/" + strings.Repeat("c", 4095)},
		Linux:    &specs.Linux{Sysctl: map[string]string{"net.ipv4.ip_forward": "1"}},
	}
	if err := CheckSizes(ok, ""); err != nil {
		t.Fatalf("values at the limits refused: %v", err)
	}
	for _, c := range []struct {
		field string
		spec  *specs.Spec
	}{
		{"hostname", &specs.Spec{Hostname: strings.Repeat("h", 65)}},
		{"process.args[1]", &specs.Spec{Process: &specs.Process{Args: []string{"x", strings.Repeat("a", 128<<10+1)}}}},
		{"linux.cgroupsPath", &specs.Spec{Linux: &specs.Linux{CgroupsPath: strings.Repeat("p", 4097)}}},
		{"linux.namespaces[0].path", &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: "network", Path: strings.Repeat("p", 5000)}}}}},
		{`annotations["k"]`, &specs.Spec{Annotations: map[string]string{"k": strings.Repeat("v", 1<<20+1)}}},
		{"linux.sysctl: a key", &specs.Spec{Linux: &specs.Linux{Sysctl: map[string]string{strings.Repeat("k", 1<<20+1): "1"}}}},
		{"mounts[0].source", &specs.Spec{Mounts: []specs.Mount{{Destination: "/x", Source: strings.Repeat("s", 4097)}}}},
	} {
		err := CheckSizes(c.spec, "")
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v", c.field, err)
			continue
		}
		if len(err.Error()) > 200 {
			t.Errorf("%s: error of %d bytes echoes the value", c.field, len(err.Error()))
		}
	}
	// exec --process: the field path starts at "process".
	err := CheckSizes(&specs.Process{Env: []string{strings.Repeat("e", 1<<20)}}, "process")
	if err == nil || !strings.Contains(err.Error(), "process.env[0]") {
		t.Errorf("process: %v", err)
	}
}
