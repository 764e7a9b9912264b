package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Namespaces are joined in runc's order (user, ipc, uts, net, pid, mnt,
// cgroup, time), whatever their order in config.json.
func TestJoinOrderIsRuncs(t *testing.T) {
	in := []configs.Namespace{
		{Type: specs.MountNamespace, Path: "/m"}, {Type: specs.TimeNamespace}, {Type: specs.NetworkNamespace, Path: "/n"},
		{Type: specs.CgroupNamespace}, {Type: specs.PIDNamespace, Path: "/p"}, {Type: specs.UserNamespace, Path: "/u"},
		{Type: specs.UTSNamespace}, {Type: specs.IPCNamespace, Path: "/i"},
	}
	var got []specs.LinuxNamespaceType
	for _, ns := range joinOrder(in) {
		got = append(got, ns.Type)
	}
	want := []specs.LinuxNamespaceType{"user", "ipc", "uts", "network", "pid", "mount", "cgroup", "time"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("join order %v, want %v", got, want)
		}
	}
}
