package tests

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// TestFeatures: `features` is what containerd reads to decide on user
// namespaces, idmapped and recursive read-only mounts.
func TestFeatures(t *testing.T) {
	var f features.Features
	if err := json.Unmarshal([]byte(mustRT(t, "features")), &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("ociVersion range %s..%s", f.OCIVersionMin, f.OCIVersionMax)
	}
	has := func(list []string, s string) bool { return contains(list, s) }
	for _, o := range []string{"rro", "rbind", "idmap", "ridmap", "tmpcopyup", "nosymfollow", "rprivate"} {
		if !has(f.MountOptions, o) {
			t.Errorf("mountOptions lacks %q", o)
		}
	}
	for _, h := range []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"} {
		if !has(f.Hooks, h) {
			t.Errorf("hooks lacks %q", h)
		}
	}
	l := f.Linux
	if l == nil {
		t.Fatal("no linux section")
	}
	for _, ns := range []string{"user", "mount", "pid", "network", "ipc", "uts", "cgroup", "time"} {
		if !has(l.Namespaces, ns) {
			t.Errorf("namespaces lacks %q", ns)
		}
	}
	if l.MountExtensions == nil || l.MountExtensions.IDMap == nil || l.MountExtensions.IDMap.Enabled == nil || !*l.MountExtensions.IDMap.Enabled {
		t.Error("mountExtensions.idmap.enabled is not true")
	}
	if l.NetDevices == nil || l.NetDevices.Enabled == nil || !*l.NetDevices.Enabled {
		t.Error("netDevices.enabled is not true")
	}
	if l.Cgroup == nil || l.Cgroup.V1 == nil || !*l.Cgroup.V1 || l.Cgroup.V2 == nil || !*l.Cgroup.V2 {
		t.Errorf("cgroup: %+v", l.Cgroup)
	}
	if l.Seccomp == nil || l.Seccomp.Enabled == nil || !*l.Seccomp.Enabled || !has(l.Seccomp.Actions, "SCMP_ACT_NOTIFY") {
		t.Errorf("seccomp: %+v", l.Seccomp)
	}
	// runc 1.5 reports memoryPolicy and intelRdt's schemata/monitoring.
	if l.MemoryPolicy == nil || !has(l.MemoryPolicy.Modes, "MPOL_BIND") || !has(l.MemoryPolicy.Modes, "MPOL_WEIGHTED_INTERLEAVE") ||
		!has(l.MemoryPolicy.Flags, "MPOL_F_STATIC_NODES") || !has(l.MemoryPolicy.Flags, "MPOL_F_NUMA_BALANCING") {
		t.Errorf("memoryPolicy: %+v", l.MemoryPolicy)
	}
	if r := l.IntelRdt; r == nil || r.Enabled == nil || !*r.Enabled || r.Schemata == nil || !*r.Schemata || r.Monitoring == nil || !*r.Monitoring {
		t.Errorf("intelRdt: %+v, want enabled, schemata and monitoring true", l.IntelRdt)
	}
	if !has(l.Capabilities, "CAP_SYS_ADMIN") || !has(l.Capabilities, "CAP_CHECKPOINT_RESTORE") {
		t.Errorf("capabilities: %v", l.Capabilities)
	}
}
