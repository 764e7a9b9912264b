package vm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The limits container: 64 MiB memory, 20 pids, half a cpu, shares 512.
// Its init reaps orphans (sleep in the background + wait) and exits on
// TERM. The tests below share it, in source order.
const (
	limitsID  = "limits"
	limitsCg  = "/rtvm/limits"
	memLimit  = 64 << 20
	memUpdate = 128 << 20
)

var limitsDir = filepath.Join("/sys/fs/cgroup", limitsCg)

var limitsStarted bool

func needLimits(t *testing.T) {
	t.Helper()
	if !limitsStarted {
		t.Fatal("the limits container did not start (see TestLimitsWritten)")
	}
}

func TestLimitsWritten(t *testing.T) {
	requireHost(t)
	s := baseSpec(t, limitsCg, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 1000 & wait; done`)
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(memLimit)}
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(20)}
	s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000), Shares: u64(512)}
	runDetached(t, limitsID, s)
	limitsStarted = true
	for file, want := range map[string]string{
		"memory.max": strconv.Itoa(memLimit),
		"pids.max":   "20",
		"cpu.max":    "50000 100000",
		"cpu.weight": "20", // 1 + (512-2)*9999/262142
	} {
		if got := readCg(t, limitsDir, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// The init is in the cgroup.
	pids := readCg(t, limitsDir, "cgroup.procs")
	if pids == "" {
		t.Errorf("cgroup.procs of %s is empty", limitsDir)
	}
	if got := status(t, limitsID); got != "running" {
		t.Errorf("status %q, want running", got)
	}
}

func TestMemoryLimitOOMKill(t *testing.T) {
	requireHost(t)
	needLimits(t)
	out, code := rt("exec", limitsID, "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1")
	if code != 137 {
		t.Fatalf("dd bs=200M in a 64 MiB cgroup: exit %d, want 137 (OOM-killed): %s", code, out)
	}
	if n, _ := strconv.Atoi(cgKey(t, limitsDir, "memory.events", "oom_kill")); n < 1 {
		t.Fatalf("memory.events oom_kill = %d, want >= 1", n)
	}
}

func TestPidsLimitEnforced(t *testing.T) {
	requireHost(t)
	needLimits(t)
	// 40 background sleeps in a cgroup of 20 tasks: the fork fails.
	out, _ := rt("exec", limitsID, "sh", "-c", `i=0; while [ $i -lt 40 ]; do sleep 2 >/dev/null 2>&1 & i=$((i+1)); done`)
	if n, _ := strconv.Atoi(cgKey(t, limitsDir, "pids.events", "max")); n < 1 {
		t.Fatalf("pids.events max = %d, want >= 1 (fork loop output: %s)", n, out)
	}
	if cur, _ := strconv.Atoi(readCg(t, limitsDir, "pids.current")); cur > 20 {
		t.Fatalf("pids.current = %d above pids.max 20", cur)
	}
	// Let the sleeps end (the init reaps them) before the next exec.
	waitFor(20*time.Second, func() bool {
		n, _ := strconv.Atoi(readCg(t, limitsDir, "pids.current"))
		return n <= 2
	})
}

func TestUpdateMemory(t *testing.T) {
	requireHost(t)
	needLimits(t)
	mustRT(t, "update", "--memory", strconv.Itoa(memUpdate), "--pids-limit", "30", limitsID)
	if got := readCg(t, limitsDir, "memory.max"); got != strconv.Itoa(memUpdate) {
		t.Errorf("memory.max after rt update = %q, want %d", got, memUpdate)
	}
	if got := readCg(t, limitsDir, "pids.max"); got != "30" {
		t.Errorf("pids.max after rt update = %q, want 30", got)
	}
}

func TestPauseResume(t *testing.T) {
	requireHost(t)
	needLimits(t)
	mustRT(t, "pause", limitsID)
	if got := readCg(t, limitsDir, "cgroup.freeze"); got != "1" {
		t.Errorf("cgroup.freeze = %q after pause", got)
	}
	if got := cgKey(t, limitsDir, "cgroup.events", "frozen"); got != "1" {
		t.Errorf("cgroup.events frozen = %q after pause", got)
	}
	if got := status(t, limitsID); got != "paused" {
		t.Errorf("status %q after pause, want paused", got)
	}
	mustRT(t, "resume", limitsID)
	if got := cgKey(t, limitsDir, "cgroup.events", "frozen"); got != "0" {
		t.Errorf("cgroup.events frozen = %q after resume", got)
	}
	if got := status(t, limitsID); got != "running" {
		t.Errorf("status %q after resume, want running", got)
	}
	// The container works again.
	if out := mustRT(t, "exec", limitsID, "echo", "alive"); strings.TrimSpace(out) != "alive" {
		t.Errorf("exec after resume: %q", out)
	}
}

func TestEventsStats(t *testing.T) {
	requireHost(t)
	needLimits(t)
	out := mustRT(t, "events", "--stats", limitsID)
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			CPU struct {
				Usage struct {
					Total uint64 `json:"total"`
				} `json:"usage"`
			} `json:"cpu"`
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
				Raw map[string]uint64 `json:"raw"`
			} `json:"memory"`
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &ev); err != nil {
		t.Fatalf("rt events --stats: %v: %s", err, out)
	}
	if ev.Type != "stats" || ev.ID != limitsID {
		t.Errorf("type %q id %q", ev.Type, ev.ID)
	}
	if ev.Data.Memory.Usage.Usage == 0 || ev.Data.Memory.Usage.Limit != memUpdate {
		t.Errorf("memory usage %d limit %d, want usage > 0 and limit %d", ev.Data.Memory.Usage.Usage, ev.Data.Memory.Usage.Limit, memUpdate)
	}
	if _, ok := ev.Data.Memory.Raw["anon"]; !ok {
		t.Errorf("memory.raw lacks memory.stat's anon: %v", ev.Data.Memory.Raw)
	}
	if ev.Data.CPU.Usage.Total == 0 || ev.Data.Pids.Current == 0 || ev.Data.Pids.Limit != 30 {
		t.Errorf("cpu total %d, pids %d/%d", ev.Data.CPU.Usage.Total, ev.Data.Pids.Current, ev.Data.Pids.Limit)
	}
	t.Logf("stats: memory %d/%d, cpu %dns, pids %d/%d", ev.Data.Memory.Usage.Usage, ev.Data.Memory.Usage.Limit,
		ev.Data.CPU.Usage.Total, ev.Data.Pids.Current, ev.Data.Pids.Limit)
}

func TestDeleteRemovesCgroup(t *testing.T) {
	requireHost(t)
	needLimits(t)
	mustRT(t, "kill", limitsID, "KILL")
	waitFor(10*time.Second, func() bool { return status(t, limitsID) == "stopped" })
	mustRT(t, "delete", limitsID)
	if _, err := os.Stat(limitsDir); err == nil {
		t.Fatalf("%s still there after rt delete", limitsDir)
	}
}

// Device rules on v2 are an eBPF program: a node the rules do not allow
// cannot be opened (EPERM), one they allow reaches its driver (240:0
// and 241:0 have none: ENXIO), and the default allow-list still works.
func TestDeviceFilter(t *testing.T) {
	requireHost(t)
	s := baseSpec(t, "/rtvm/devices", "sh", "-c",
		`for d in denied allowed zero; do if head -c1 /dev/$d >/dev/null 2>/tmp/err; then echo "$d: ok"; else echo "$d: $(cat /tmp/err)"; fi; done`)
	s.Linux.Devices = append(s.Linux.Devices,
		specs.LinuxDevice{Path: "/dev/denied", Type: "c", Major: 240, Minor: 0, FileMode: fm(0o666)},
		specs.LinuxDevice{Path: "/dev/allowed", Type: "c", Major: 241, Minor: 0, FileMode: fm(0o666)},
	)
	s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(241), Minor: i64(0), Access: "rwm"},
	}
	out, code := runForeground(t, "devices", s)
	t.Logf("container output:\n%s", out)
	if code != 0 {
		t.Fatalf("rt run: exit %d", code)
	}
	for _, want := range []string{"denied: head: /dev/denied: Operation not permitted", "allowed: head: /dev/allowed: No such device or address", "zero: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// rt run deletes the container, and its cgroup, when it exits.
	if _, err := os.Stat("/sys/fs/cgroup/rtvm/devices"); err == nil {
		t.Errorf("/sys/fs/cgroup/rtvm/devices still there after rt run returned")
	}
}

// An unavailable controller in linux.resources.unified is refused,
// naming the key.
func TestUnifiedUnavailableController(t *testing.T) {
	requireHost(t)
	s := baseSpec(t, "/rtvm/unified", "true")
	s.Linux.Resources.Unified = map[string]string{"memory.high": "50M", "misc.max": "nosuch 1"}
	ctrls, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if strings.Contains(string(ctrls), "misc") {
		// misc is there: make it a bogus file of an available controller instead.
		s.Linux.Resources.Unified = map[string]string{"memory.high": "50M", "memory.nosuch": "1"}
	}
	out, code := runForeground(t, "unified", s)
	if code == 0 || !strings.Contains(out, `linux.resources.unified["m`) {
		t.Fatalf("rt run with a bad unified key: exit %d, output %q; want an error naming the key", code, out)
	}
	rt("delete", "-f", "unified")
}

func TestFeaturesReportsV2(t *testing.T) {
	requireHost(t)
	var f struct {
		Linux struct {
			Cgroup struct {
				V2 *bool `json:"v2"`
			} `json:"cgroup"`
		} `json:"linux"`
	}
	out := mustRT(t, "features")
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if f.Linux.Cgroup.V2 == nil || !*f.Linux.Cgroup.V2 {
		t.Fatalf("rt features: linux.cgroup.v2 not true: %s", out)
	}
}
