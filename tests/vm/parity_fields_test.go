package vm

import (
	"os"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linux.memoryPolicy on a machine with two NUMA nodes (tests/vm/run.sh
// gives the VM two): the policy is the container process's, read back
// from numa_maps; a node the machine lacks fails create naming the field.
func TestMemoryPolicyTwoNodes(t *testing.T) {
	requireHost(t)
	online, _ := os.ReadFile("/sys/devices/system/node/online")
	if strings.TrimSpace(string(online)) != "0-1" {
		t.Fatalf("NUMA nodes online %q, want 0-1 (run.sh starts qemu with two -numa nodes)", online)
	}
	for i, c := range []struct {
		policy specs.LinuxMemoryPolicy
		want   string
	}{
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1"}, " bind:1 "},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0-1"}, " interleave:0-1 "},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "1"}, " prefer:1 "},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, " bind=static:0-1 "},
	} {
		s := baseSpec(t, "", "cat", "/proc/self/numa_maps")
		p := c.policy
		s.Linux.MemoryPolicy = &p
		out, code := runForeground(t, "mpol"+string(rune('a'+i)), s)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%+v: exit %d, numa_maps lacks %q:\n%s", c.policy, code, c.want, out)
		}
	}
	s := baseSpec(t, "", "true")
	s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "7"}
	if out, code := runForeground(t, "mpolbad", s); code == 0 || !strings.Contains(out, "linux.memoryPolicy") {
		t.Errorf("bind to absent node 7: exit %d, %q; want an error naming linux.memoryPolicy", code, out)
	}
}

// kill --all with SIGKILL goes through cgroup.kill on cgroup v2 (runc
// 1.5): a container whose processes fork without pause is emptied.
func TestKillAllCgroupKill(t *testing.T) {
	requireHost(t)
	const cg = "/rtvm/killall"
	s := baseSpec(t, cg, "sh", "-c", "while :; do (sleep 100 &); done")
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(64)}
	runDetached(t, "killall", s)
	dir := "/sys/fs/cgroup" + cg
	if _, err := os.Stat(dir + "/cgroup.kill"); err != nil {
		mustRT(t, "delete", "--force", "killall")
		t.Skip("SKIP: kernel without cgroup.kill (Linux < 5.14)")
	}
	time.Sleep(2 * time.Second)
	mustRT(t, "kill", "--all", "killall", "KILL")
	if !waitFor(20*time.Second, func() bool { return strings.TrimSpace(readCg(t, dir, "cgroup.procs")) == "" }) {
		t.Errorf("processes left after kill --all KILL: %q", readCg(t, dir, "cgroup.procs"))
	}
	mustRT(t, "delete", "--force", "killall")
}
