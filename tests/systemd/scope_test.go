//go:build systemdvm

package systemd

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const cg = "/sys/fs/cgroup"

// TestScopeProperties: run -d makes rt-<id>.scope in system.slice with
// the init in it, Delegate=yes, the resources as unit properties and in
// the cgroup files; delete stops the unit and leaves nothing.
func TestScopeProperties(t *testing.T) {
	id := "sdprops"
	unit := "rt-" + id + ".scope"
	s := baseSpec(t, "system.slice:rt:"+id, "sleep", "600")
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(96 << 20), Reservation: i64(16 << 20)}
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(64)}
	s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: u64(2048), Quota: i64(50000), Period: u64(100000), Cpus: "0", Mems: "0"}
	s.Annotations = map[string]string{
		"org.systemd.property.TimeoutStopSec": "uint64 7",
		"org.systemd.property.CollectMode":    "'inactive-or-failed'",
	}
	runDetached(t, id, s)
	dir := cg + "/system.slice/" + unit

	out, code := run("systemctl", "status", "--no-pager", unit)
	if code != 0 {
		t.Errorf("systemctl status %s: exit %d: %s", unit, code, out)
	}
	p := show(t, unit, "ActiveState", "Delegate", "Slice", "ControlGroup", "MemoryMax", "MemoryLow", "TasksMax",
		"CPUWeight", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "AllowedCPUs", "AllowedMemoryNodes", "DevicePolicy",
		"TimeoutStopUSec", "CollectMode", "MemoryAccounting", "TasksAccounting", "DefaultDependencies")
	want := map[string]string{
		"ActiveState": "active", "Delegate": "yes", "Slice": "system.slice", "ControlGroup": "/system.slice/" + unit,
		"MemoryMax": strconv.Itoa(96 << 20), "MemoryLow": strconv.Itoa(16 << 20), "TasksMax": "64",
		"CPUWeight": "79", "CPUQuotaPerSecUSec": "500ms", "CPUQuotaPeriodUSec": "100ms",
		"AllowedCPUs": "0", "AllowedMemoryNodes": "0", "DevicePolicy": "strict",
		"TimeoutStopUSec": "7s", "CollectMode": "inactive-or-failed", "MemoryAccounting": "yes", "TasksAccounting": "yes",
		"DefaultDependencies": "no",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s: %s=%q, want %q", unit, k, p[k], v)
		}
	}
	pid := initPid(t, id)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil || strings.TrimSpace(string(b)) != "0::/system.slice/"+unit {
		t.Errorf("init's /proc/%d/cgroup = %q (%v), want 0::/system.slice/%s", pid, b, err, unit)
	}
	for f, v := range map[string]string{"memory.max": strconv.Itoa(96 << 20), "memory.low": strconv.Itoa(16 << 20),
		"pids.max": "64", "cpu.max": "50000 100000", "cpu.weight": "79", "cpuset.cpus": "0"} {
		if got := readCg(t, dir, f); got != v {
			t.Errorf("%s/%s = %q, want %q", dir, f, got, v)
		}
	}
	mustRT(t, "delete", "-f", id)
	gone(t, unit, dir)
	if _, err := os.Stat(stateDir + "/" + id); !os.IsNotExist(err) {
		t.Errorf("state dir of %s still there: %v", id, err)
	}
}

// TestLimitsEnforced: the unit's memory limit OOM-kills, its TasksMax
// stops forks.
func TestLimitsEnforced(t *testing.T) {
	id := "sdoom"
	s := baseSpec(t, ":rt:"+id, "sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1; echo dd=$?")
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(32 << 20)}
	out, code := runForeground(t, id, s)
	if code == 0 && !strings.Contains(out, "dd=137") {
		t.Errorf("dd of 128M under a 32M limit: exit %d, %q; want an OOM kill", code, out)
	}
	mustRT(t, "delete", "-f", id)

	// the forks come from an exec'd shell: a shell whose fork fails
	// exits, and the init's exit would end the scope
	id = "sdpids"
	s = baseSpec(t, ":rt:"+id, "sleep", "600")
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(12)}
	runDetached(t, id, s)
	dir := cg + "/system.slice/rt-" + id + ".scope"
	if p := show(t, "rt-"+id+".scope", "TasksMax"); p["TasksMax"] != "12" {
		t.Errorf("TasksMax=%q, want 12", p["TasksMax"])
	}
	rt("exec", id, "sh", "-c", "for i in $(seq 40); do sleep 20 & done; wait")
	if v := cgKey(t, dir, "pids.events", "max"); v == "0" || v == "" {
		t.Errorf("pids.events max = %q with 40 forks under pids.max 12 (pids.current %s)", v, readCg(t, dir, "pids.current"))
	}
	if n, _ := strconv.Atoi(readCg(t, dir, "pids.current")); n > 12 {
		t.Errorf("pids.current %d > 12", n)
	}
	mustRT(t, "delete", "-f", id)
	gone(t, "rt-"+id+".scope", dir)
}

// TestUpdatePauseStatsExecKill: update sets the unit's properties and
// the files; pause/resume freeze the cgroup; events --stats reads it;
// exec joins it; kill --all reaches every process; delete cleans up.
func TestUpdatePauseStatsExecKill(t *testing.T) {
	id := "sdlife"
	unit := "rt-" + id + ".scope"
	s := baseSpec(t, "system.slice:rt:"+id, "sleep", "600")
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(64 << 20)}
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(50)}
	runDetached(t, id, s)
	dir := cg + "/system.slice/" + unit

	mustRT(t, "update", "--memory", "128M", "--pids-limit", "77", "--cpu-quota", "20000", "--cpu-period", "100000", id)
	p := show(t, unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec")
	if p["MemoryMax"] != strconv.Itoa(128<<20) || p["TasksMax"] != "77" || p["CPUQuotaPerSecUSec"] != "200ms" {
		t.Errorf("after update: %v", p)
	}
	if readCg(t, dir, "memory.max") != strconv.Itoa(128<<20) || readCg(t, dir, "pids.max") != "77" || readCg(t, dir, "cpu.max") != "20000 100000" {
		t.Errorf("after update: memory.max %s pids.max %s cpu.max %s", readCg(t, dir, "memory.max"), readCg(t, dir, "pids.max"), readCg(t, dir, "cpu.max"))
	}
	// the update is a runtime property: nothing persisted in /etc
	if _, err := os.Stat("/etc/systemd/system.control/" + unit + ".d"); err == nil {
		t.Errorf("update wrote persistent drop-ins in /etc/systemd/system.control")
	}

	mustRT(t, "pause", id)
	if st := status(t, id); st != "paused" || readCg(t, dir, "cgroup.freeze") != "1" || cgKey(t, dir, "cgroup.events", "frozen") != "1" {
		t.Errorf("after pause: status %s, cgroup.freeze %s, events frozen %s", st, readCg(t, dir, "cgroup.freeze"), cgKey(t, dir, "cgroup.events", "frozen"))
	}
	mustRT(t, "resume", id)
	if st := status(t, id); st != "running" || readCg(t, dir, "cgroup.freeze") != "0" {
		t.Errorf("after resume: status %s, cgroup.freeze %s", st, readCg(t, dir, "cgroup.freeze"))
	}

	out := mustRT(t, "events", "--stats", id)
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Type != "stats" || ev.Data.Memory.Usage.Usage == 0 ||
		ev.Data.Memory.Usage.Limit != 128<<20 || ev.Data.Pids.Current < 1 || ev.Data.Pids.Limit != 77 {
		t.Errorf("events --stats: %v: %s", err, out)
	}

	// exec joins the scope's cgroup
	if _, code := run("sh", "-c", fmt.Sprintf("%s --root %s --systemd-cgroup exec -d %s sleep 500 </dev/null >/dev/null 2>&1", rtBinary, stateDir, id)); code != 0 {
		t.Fatalf("exec -d: exit %d", code)
	}
	procs := strings.Fields(readCg(t, dir, "cgroup.procs"))
	if len(procs) != 2 {
		t.Errorf("cgroup.procs of %s after exec: %v, want the init and the exec'd sleep", unit, procs)
	}
	mustRT(t, "kill", "--all", id, "KILL")
	if !waitFor(20*time.Second, func() bool {
		b, err := os.ReadFile(dir + "/cgroup.procs")
		return err != nil || strings.TrimSpace(string(b)) == ""
	}) {
		t.Errorf("kill --all: processes left in %s", dir)
	}
	mustRT(t, "delete", id)
	gone(t, unit, dir)
}

// TestUnitExists: a unit of the same name (not a failed leftover) makes
// create fail with a clear error; rt leaves no state, the other unit is
// untouched.
func TestUnitExists(t *testing.T) {
	id := "sdexists"
	unit := "rt-" + id + ".scope"
	out, code := run("systemd-run", "--scope", "--unit", unit, "--no-block", "sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 &")
	if code != 0 {
		// systemd-run --scope runs the command in the scope and waits;
		// a background sleep keeps the scope alive after it returns
		t.Fatalf("systemd-run --scope: exit %d: %s", code, out)
	}
	defer run("systemctl", "stop", unit)
	if p := show(t, unit, "ActiveState"); p["ActiveState"] != "active" {
		t.Fatalf("the other scope is not active: %v", p)
	}
	s := baseSpec(t, "system.slice:rt:"+id, "true")
	bundle := writeBundle(t, id, s)
	out, code = rt("create", "--bundle", bundle, id)
	if code == 0 {
		track(id)
		t.Fatalf("create over an existing unit %s succeeded: %s", unit, out)
	}
	// runc's check of the cgroup before anything is placed in it sees
	// the other scope's process; a unit with an empty cgroup would get
	// "a unit of that name already exists" from the start
	if !strings.Contains(out, "container's cgroup is not empty") && !(strings.Contains(out, unit) && strings.Contains(out, "already exists")) {
		t.Errorf("error does not say the cgroup is in use or the unit exists: %s", out)
	}
	if _, err := os.Stat(stateDir + "/" + id); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
	if p := show(t, unit, "ActiveState"); p["ActiveState"] != "active" {
		t.Errorf("the other unit was disturbed: %v", p)
	}
}

// TestBadAnnotation: an unparsable org.systemd.property.* value fails
// create with the annotation named, and nothing is left.
func TestBadAnnotation(t *testing.T) {
	id := "sdbadann"
	s := baseSpec(t, ":rt:"+id, "true")
	s.Annotations = map[string]string{"org.systemd.property.TimeoutStopSec": "'not a number'"}
	bundle := writeBundle(t, id, s)
	out, code := rt("run", "--bundle", bundle, id)
	if code == 0 || !strings.Contains(out, "org.systemd.property.TimeoutStopSec") {
		t.Errorf("run: exit %d: %s; want an error naming the annotation", code, out)
	}
	gone(t, "rt-"+id+".scope", cg+"/system.slice/rt-"+id+".scope")
}

// TestFailedJob: a property systemd refuses fails the start with
// systemd's message; no unit, no cgroup, no state left.
func TestFailedJob(t *testing.T) {
	id := "sdfail"
	s := baseSpec(t, ":rt:"+id, "true")
	s.Annotations = map[string]string{"org.systemd.property.NoSuchProperty": "true"}
	bundle := writeBundle(t, id, s)
	out, code := rt("run", "--bundle", bundle, id)
	if code == 0 || !strings.Contains(out, "NoSuchProperty") {
		t.Errorf("run: exit %d: %s; want systemd's refusal", code, out)
	}
	gone(t, "rt-"+id+".scope", cg+"/system.slice/rt-"+id+".scope")
	if _, err := os.Stat(stateDir + "/" + id); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
}

// TestOwnSlice: a name ending in .slice gives the container a slice
// unit of its own.
func TestOwnSlice(t *testing.T) {
	id := "sdslice"
	unit := "rtsd-" + id + ".slice"
	s := baseSpec(t, "system.slice:rt:"+unit, "sleep", "600")
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(33)}
	runDetached(t, id, s)
	dir := cg + "/rtsd.slice/" + unit
	p := show(t, unit, "ActiveState", "TasksMax", "ControlGroup")
	if p["ActiveState"] != "active" || p["TasksMax"] != "33" || p["ControlGroup"] != "/rtsd.slice/"+unit {
		t.Errorf("%s: %v", unit, p)
	}
	pid := initPid(t, id)
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); strings.TrimSpace(string(b)) != "0::/rtsd.slice/"+unit {
		t.Errorf("init's cgroup %q", b)
	}
	mustRT(t, "delete", "-f", id)
	// a stopped slice may stay loaded a while (systemd synthesizes
	// slices by name): it must be inactive and its cgroup gone
	if !waitFor(20*time.Second, func() bool {
		_, err := os.Stat(dir)
		return os.IsNotExist(err) && show(t, unit, "ActiveState")["ActiveState"] == "inactive"
	}) {
		t.Errorf("%s: %v after delete", unit, show(t, unit, "ActiveState", "LoadState"))
	}
	run("systemctl", "stop", "rtsd.slice")
}
