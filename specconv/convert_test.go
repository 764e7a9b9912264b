package specconv

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0", "1.3.0+dev"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("CheckVersion(%q) = %v, want nil", v, err)
		}
	}
	for _, v := range []string{"", "2.0.0", "1.4.0", "0.9.0", "1.0", "one"} {
		err := CheckVersion(v)
		if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "ociVersion") {
			t.Errorf("CheckVersion(%q) = %v, want an ociVersion error", v, err)
		}
	}
}

func bundleFor(t *testing.T) (string, *specs.Spec) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := Example()
	s.Process.Terminal = false
	return dir, s
}

func TestConvertExample(t *testing.T) {
	dir, s := bundleFor(t)
	c, err := Convert(s, dir, Options{ID: "x"})
	if err != nil {
		t.Fatalf("Convert(Example()) = %v", err)
	}
	if c.Rootfs != filepath.Join(dir, "rootfs") || !c.Readonly || c.Hostname != s.Hostname {
		t.Errorf("rootfs %q readonly %v hostname %q", c.Rootfs, c.Readonly, c.Hostname)
	}
	if len(c.Mounts) != len(s.Mounts) {
		t.Errorf("%d mounts, want %d", len(c.Mounts), len(s.Mounts))
	}
	// runc's default device allow-list follows the config's own rules.
	res := c.Cgroup.Resources
	if res == nil || len(res.Devices) < 2 || res.Devices[0].Allow || res.Devices[len(res.Devices)-1].Allow != true {
		t.Errorf("device rules: %+v", res)
	}
}

func TestConvertRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(dir string, s *specs.Spec)
		field string
	}{
		{"version", func(_ string, s *specs.Spec) { s.Version = "2.0.0" }, "ociVersion"},
		{"no root", func(_ string, s *specs.Spec) { s.Root = nil }, "root.path"},
		{"missing rootfs", func(_ string, s *specs.Spec) { s.Root.Path = "nope" }, "root.path"},
		{"no process", func(_ string, s *specs.Spec) { s.Process = nil }, "process"},
		{"empty args", func(_ string, s *specs.Spec) { s.Process.Args = nil }, "process.args"},
		{"relative cwd", func(_ string, s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd"},
		{"unknown namespace", func(_ string, s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, "unknown namespace type \"bogus\""},
		{"duplicate namespace", func(_ string, s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "listed twice"},
		{"relative ns path", func(_ string, s *specs.Spec) {
			s.Linux.Namespaces[0].Path = "proc/1/ns/pid"
		}, ".path"},
		{"empty mount destination", func(_ string, s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "", Type: "tmpfs", Source: "tmpfs"})
		}, "mounts[7]"},
		{"kernel.hostname sysctl", func(_ string, s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, "conflicts with the hostname field"},
		{"user sysctl without userns", func(_ string, s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "10"}
		}, "user.max_user_namespaces"},
		{"memory policy unknown mode", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_NOPE", Nodes: "0"}
		}, "linux.memoryPolicy.mode"},
		{"memory policy bind without nodes", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind}
		}, "linux.memoryPolicy.nodes"},
		{"memory policy default with nodes", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0"}
		}, "linux.memoryPolicy.nodes"},
		{"memory policy bad nodes", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1-0"}
		}, "linux.memoryPolicy.nodes"},
		{"memory policy node out of range", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "5000"}
		}, "linux.memoryPolicy.nodes"},
		{"memory policy static and relative", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0",
				Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFRelativeNodes}}
		}, "linux.memoryPolicy.flags"},
		{"memory policy unknown flag", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_X"}}
		}, "linux.memoryPolicy.flags"},
		{"memory policy numa balancing with interleave", func(_ string, s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0",
				Flags: []specs.MemoryPolicyFlagType{specs.MpolFNumaBalancing}}
		}, "linux.memoryPolicy.flags"},
		{"intelRdt bad closID", func(_ string, s *specs.Spec) {
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "../x"}
		}, "linux.intelRdt.closID"},
		{"execCPUAffinity bad list", func(_ string, s *specs.Spec) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-x"}
		}, "process.execCPUAffinity.initial"},
		{"solaris section", func(_ string, s *specs.Spec) { s.Solaris = &specs.Solaris{} }, "solaris"},
		{"windows commandLine", func(_ string, s *specs.Spec) { s.Process.CommandLine = "cmd" }, "process.commandLine"},
		{"hostname without uts", func(_ string, s *specs.Spec) {
			var ns []specs.LinuxNamespace
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.UTSNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
		}, "hostname"},
		{"host sysctl", func(_ string, s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }, "kernel.panic"},
		{"mappings without userns", func(_ string, s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, "linux.uidMappings"},
		{"userns without mappings", func(_ string, s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "linux.uidMappings"},
		{"relative hook", func(_ string, s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "hook"}}}
		}, "hooks.createRuntime[0].path"},
		{"time offsets without time ns", func(_ string, s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"bad device type", func(_ string, s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, "linux.devices[0].type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, s := bundleFor(t)
			tc.edit(dir, s)
			_, err := Convert(s, dir, Options{ID: "x"})
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Convert = %v, want an error naming %q", err, tc.field)
			}
		})
	}
}

func TestLoadSpecErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("missing config.json: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion": "1.0.0",`), 0o644)
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("malformed config.json: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion": "1.0.0"} {}`), 0o644)
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("trailing data: %v", err)
	}
}

// TestUnknownCapabilityDropped: as runc, a capability name rt or the kernel
// does not know is dropped (with a warning), not refused.
func TestUnknownCapabilityDropped(t *testing.T) {
	dir, s := bundleFor(t)
	s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_TEST")
	s.Process.Capabilities.Ambient = []string{"CAP_TEST", "CAP_KILL"}
	c, err := Convert(s, dir, Options{ID: "x"})
	if err != nil {
		t.Fatalf("Convert with an unknown capability: %v", err)
	}
	for _, set := range [][]string{c.Process.Capabilities.Bounding, c.Process.Capabilities.Ambient} {
		for _, n := range set {
			if n == "CAP_TEST" {
				t.Errorf("CAP_TEST kept in %v", set)
			}
		}
	}
	if got := c.Process.Capabilities.Ambient; len(got) != 1 || got[0] != "CAP_KILL" {
		t.Errorf("ambient %v, want [CAP_KILL]", got)
	}
}

// Properties the runtime-spec does not define are ignored (config.md,
// "Extensibility"), at the top and inside a section; trailing data is not.
func TestLoadSpecIgnoresUnknown(t *testing.T) {
	dir, s := bundleFor(t)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["org.example.extension"] = map[string]any{"x": 1}
	m["linux"].(map[string]any)["futureField"] = true
	data, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := LoadSpec(dir)
	if err != nil {
		t.Fatalf("LoadSpec with unknown properties: %v", err)
	}
	if _, err := Convert(spec, dir, Options{ID: "x"}); err != nil {
		t.Fatalf("Convert with unknown properties: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(data, []byte(" {}")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("LoadSpec with trailing data = %v, want a refusal", err)
	}
}

// TestConvertFirstErrorIsStable: a config with several faults in maps
// (hooks by kind, sysctls, time offsets, net devices, other platforms)
// names the same first fault on every call, as FuzzConvert requires (it
// once failed on two hooks with empty paths: a map's order).
func TestConvertFirstErrorIsStable(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"hooks", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{
				CreateRuntime: []specs.Hook{{Path: ""}}, Poststop: []specs.Hook{{Path: "rel"}},
				StartContainer: []specs.Hook{{Path: "x"}}, Prestart: []specs.Hook{{Path: "y"}},
			}
		}, "hooks.prestart[0].path"},
		{"sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.zzz": "1", "kernel.aaa": "1", "vm.b": "1", "fs.c": "1"}
		}, "fs.c"},
		{"timeOffsets", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"zz": {}, "aa": {}, "mm": {}, "bb": {}}
		}, `"aa"`},
		{"netDevices", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"z/z": {}, "a/a": {}, "m/m": {}, "b/b": {}}
		}, `"a/a"`},
		{"platforms", func(s *specs.Spec) {
			s.Windows, s.Solaris, s.VM, s.ZOS = &specs.Windows{}, &specs.Solaris{}, &specs.VM{}, &specs.ZOS{}
		}, "solaris"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 30; i++ {
				dir, s := bundleFor(t)
				tc.edit(s)
				_, err := Convert(s, dir, Options{ID: "x"})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("call %d: Convert = %v, want the first fault in order (%s)", i, err, tc.want)
				}
			}
		})
	}
}
