package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of the commands built on cgroups: pause, resume, update, events,
// ps.

// counterScript makes the container's init write an increasing counter to
// /tmp/counter every 50ms.
const counterScript = `i=0; while true; do i=$((i+1)); echo $i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.05; done`

// cgroupCmdsContainer runs a detached container in its own cgroupsPath
// and returns id, init pid, bundle and the cgroupsPath.
func cgroupCmdsContainer(t *testing.T, script string, opts ...bundleOpt) (string, int, *bundle, string) {
	t.Helper()
	path := fmt.Sprintf("/rt-test-cmds-%d-%d", os.Getpid(), idCounter.Add(1))
	opts = append([]bundleOpt{withArgs("sh", "-c", script), func(s *specs.Spec) { s.Linux.CgroupsPath = path }}, opts...)
	b := newBundle(t, opts...)
	id := newID(t)
	mustRT(t, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	return id, pid, b, path
}

func readCounter(t *testing.T, b *bundle) int {
	t.Helper()
	var n int
	if !pollUntil(10*time.Second, func() bool {
		data, err := os.ReadFile(filepath.Join(b.Rootfs, "tmp", "counter"))
		if err != nil {
			return false
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(data)))
		n = v
		return err == nil && v > 0
	}) {
		t.Fatal("the container never wrote /tmp/counter")
	}
	return n
}

func rtFails(t *testing.T, wantErr string, args ...string) {
	t.Helper()
	so, se, code := rt(t, args...)
	if code == 0 {
		t.Fatalf("%s: succeeded, want an error %q (stdout %q)", strings.Join(args, " "), wantErr, so)
	}
	if !strings.Contains(se, wantErr) {
		t.Fatalf("%s: stderr %q, want it to contain %q", strings.Join(args, " "), se, wantErr)
	}
}

func TestPauseResume(t *testing.T) {
	requireCgroupV1(t, "freezer", "pids")
	id, _, b, path := cgroupCmdsContainer(t, counterScript)
	readCounter(t, b)
	rtFails(t, "container not paused", "resume", id)

	mustRT(t, "pause", id)
	if st := state(t, id); st.Status != "paused" {
		t.Fatalf("state after pause: %q, want paused", st.Status)
	}
	if got := cgFile(t, "freezer", path, "freezer.state"); got != "FROZEN" {
		t.Fatalf("freezer.state = %q, want FROZEN", got)
	}
	before := readCounter(t, b)
	time.Sleep(400 * time.Millisecond)
	if after := readCounter(t, b); after != before {
		t.Fatalf("paused container kept running: counter %d -> %d", before, after)
	}
	rtFails(t, "container not running", "pause", id)
	// A paused container can be updated, and stays paused.
	mustRT(t, "update", "--pids-limit", "40", id)
	if got := cgFile(t, "pids", path, "pids.max"); got != "40" {
		t.Fatalf("pids.max after update of a paused container = %s, want 40", got)
	}
	if st := state(t, id); st.Status != "paused" {
		t.Fatalf("state after update while paused: %q, want paused", st.Status)
	}

	mustRT(t, "resume", id)
	if st := state(t, id); st.Status != "running" {
		t.Fatalf("state after resume: %q, want running", st.Status)
	}
	if got := cgFile(t, "freezer", path, "freezer.state"); got != "THAWED" {
		t.Fatalf("freezer.state = %q, want THAWED", got)
	}
	if !pollUntil(5*time.Second, func() bool { return readCounter(t, b) > before }) {
		t.Fatal("resumed container does not advance")
	}
}

func TestPauseCreatedContainer(t *testing.T) {
	requireCgroupV1(t, "freezer")
	b := newBundle(t, withArgs("sleep", "1000"))
	id, _ := createContainer(t, b)
	mustRT(t, "pause", id)
	if st := state(t, id); st.Status != "paused" {
		t.Fatalf("state of a created container after pause: %q, want paused", st.Status)
	}
	if _, _, code := rt(t, "start", id); code == 0 {
		t.Fatal("start of a paused container succeeded")
	}
	mustRT(t, "resume", id)
	if st := state(t, id); st.Status != "created" {
		t.Fatalf("state after resume: %q, want created", st.Status)
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
}

func TestPauseResumeStopped(t *testing.T) {
	requireCgroupV1(t, "freezer")
	b := newBundle(t, withArgs("true"))
	id, _ := startContainer(t, b)
	waitStatus(t, id, "stopped")
	rtFails(t, "container not running", "pause", id)
	rtFails(t, "container not paused", "resume", id)
	rtFails(t, "does not exist", "pause", "no-such-container-"+id)
}

func TestKillPausedContainer(t *testing.T) {
	requireCgroupV1(t, "freezer")
	id, pid, _, _ := cgroupCmdsContainer(t, "sleep 1000")
	mustRT(t, "pause", id)
	waitStatus(t, id, "paused")
	mustRT(t, "kill", id, "KILL")
	if !waitGone(pid, 10*time.Second) {
		t.Fatal("kill KILL of a paused container: init still alive")
	}
	waitStatus(t, id, "stopped")
	mustRT(t, "delete", id)
	assertNoState(t, id)
}

func TestDeleteForcePausedContainer(t *testing.T) {
	requireCgroupV1(t, "freezer")
	id, pid, _, path := cgroupCmdsContainer(t, "sleep 1000")
	mustRT(t, "pause", id)
	waitStatus(t, id, "paused")
	rtFails(t, "not stopped", "delete", id)
	mustRT(t, "delete", "--force", id)
	if !waitGone(pid, 10*time.Second) {
		t.Fatal("delete --force of a paused container: init still alive")
	}
	assertNoState(t, id)
	if _, err := os.Stat(filepath.Join(cgroupRoot, "freezer", path)); !os.IsNotExist(err) {
		t.Fatalf("freezer cgroup %s left after delete --force: %v", path, err)
	}
}

// storedResources reads the resources saved in the state directory: for
// rt in <root>/<id>/config.json (cgroup.resources, spec form), for runc in
// state.json (config.cgroups, flattened): memory limit and pids limit.
func storedResources(t *testing.T, id string) (memory, pids int64) {
	t.Helper()
	var data string
	if b, err := os.ReadFile(filepath.Join(ctxFor(t).root, id, "config.json")); err == nil {
		data = `{"config":` + string(b) + `}`
	} else {
		data = readFile(t, filepath.Join(ctxFor(t).root, id, "state.json"))
	}
	var st struct {
		Config struct {
			Cgroup struct {
				Resources *specs.LinuxResources `json:"resources"`
			} `json:"cgroup"`
			Cgroups *struct {
				Memory    int64  `json:"memory"`
				PidsLimit *int64 `json:"pids_limit"`
			} `json:"cgroups"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		t.Fatalf("parse state.json: %v", err)
	}
	if c := st.Config.Cgroups; c != nil {
		if c.PidsLimit != nil {
			pids = *c.PidsLimit
		}
		return c.Memory, pids
	}
	if r := st.Config.Cgroup.Resources; r != nil {
		if r.Memory != nil && r.Memory.Limit != nil {
			memory = *r.Memory.Limit
		}
		if r.Pids != nil && r.Pids.Limit != nil {
			pids = *r.Pids.Limit
		}
	}
	return memory, pids
}

func TestUpdateResources(t *testing.T) {
	requireCgroupV1(t, "memory", "pids", "cpu")
	id, _, _, path := cgroupCmdsContainer(t, "sleep 1000")

	mustRT(t, "update", "--memory", "64M", id)
	if got := cgFile(t, "memory", path, "memory.limit_in_bytes"); got != "67108864" {
		t.Fatalf("memory.limit_in_bytes = %s, want 67108864", got)
	}
	if mem, _ := storedResources(t, id); mem != 64<<20 {
		t.Fatalf("state.json memory limit = %d, want %d", mem, 64<<20)
	}

	mustRT(t, "update", "--pids-limit", "30", id)
	if got := cgFile(t, "pids", path, "pids.max"); got != "30" {
		t.Fatalf("pids.max = %s, want 30", got)
	}

	r := runRaw(ctxFor(t).root, []byte(`{"pids":{"limit":25},"cpu":{"shares":700}}`), "update", "--resources", "-", id)
	if r.code != 0 {
		t.Fatalf("update --resources -: exit %d: %s", r.code, r.stderr)
	}
	if got := cgFile(t, "pids", path, "pids.max"); got != "25" {
		t.Fatalf("pids.max = %s, want 25", got)
	}
	if got := cgFile(t, "cpu", path, "cpu.shares"); got != "700" {
		t.Fatalf("cpu.shares = %s, want 700", got)
	}
	// Earlier updates are kept: the memory limit is still there.
	mem, pids := storedResources(t, id)
	if mem != 64<<20 || pids != 25 {
		t.Fatalf("state.json after update: memory %d pids %d, want %d and 25", mem, pids, 64<<20)
	}
	if got := cgFile(t, "memory", path, "memory.limit_in_bytes"); got != "67108864" {
		t.Fatalf("memory.limit_in_bytes after pids update = %s, want 67108864", got)
	}

	// From a file, with the memory unlimited again.
	f := filepath.Join(t.TempDir(), "res.json")
	if err := os.WriteFile(f, []byte(`{"memory":{"limit":-1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRT(t, "update", "-r", f, id)
	if got := cgFile(t, "memory", path, "memory.limit_in_bytes"); got == "67108864" {
		t.Fatal("update -r FILE with limit -1 left the 64M limit")
	}

	rtFails(t, "invalid value for memory", "update", "--memory", "12X", id)
}

func TestUpdateBadCpusetKeepsOldValue(t *testing.T) {
	requireCgroupV1(t, "cpuset")
	id, _, _, path := cgroupCmdsContainer(t, "sleep 1000", func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}
	})
	so, se, code := rt(t, "update", "--cpuset-cpus", "99", id)
	if code == 0 {
		t.Fatalf("update --cpuset-cpus 99 succeeded (stdout %q)", so)
	}
	if !strings.Contains(se, "cpu") {
		t.Fatalf("error %q does not name the cpus field", se)
	}
	if got := cgFile(t, "cpuset", path, "cpuset.cpus"); got != "0" {
		t.Fatalf("cpuset.cpus = %q after a failed update, want 0", got)
	}
}

func TestUpdateStoppedContainer(t *testing.T) {
	requireCgroupV1(t, "memory")
	b := newBundle(t, withArgs("true"))
	id, _ := startContainer(t, b)
	waitStatus(t, id, "stopped")
	rtFails(t, "container not running", "update", "--memory", "64M", id)
}

// statsEvent is the part of runc's events JSON the tests look at.
type statsEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
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

func TestEventsStats(t *testing.T) {
	requireCgroupV1(t, "memory", "pids", "cpuacct")
	id, _, _, _ := cgroupCmdsContainer(t, "sleep 1000", func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(50))}}
	})
	out := mustRT(t, "events", "--stats", id)
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("events --stats printed more than one line:\n%s", out)
	}
	var ev statsEvent
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	if ev.Type != "stats" || ev.ID != id || ev.Data == nil {
		t.Fatalf("event = %+v, want type stats for %s with data", ev, id)
	}
	d := ev.Data
	if d.Memory.Usage.Usage == 0 {
		t.Errorf("memory usage is 0: %s", out)
	}
	if d.Pids.Current < 1 || d.Pids.Limit != 50 {
		t.Errorf("pids = %+v, want current >= 1 and limit 50", d.Pids)
	}
	if d.CPU.Usage.Total == 0 {
		t.Errorf("cpu total usage is 0")
	}
	if _, ok := d.Memory.Raw["rss"]; !ok {
		t.Errorf("memory.raw lacks rss: %v", d.Memory.Raw)
	}
	rtFails(t, "duration interval must be greater than 0", "events", "--interval", "0s", id)
}

func TestEventsStreamAndOOM(t *testing.T) {
	requireCgroupV1(t, "memory")
	limit := int64(16 << 20)
	// The init survives the OOM kill of tail, which reads /dev/zero
	// (no newline ever) into memory until the cgroup limit.
	id, _, _, _ := cgroupCmdsContainer(t, "sleep 0.5; tail /dev/zero; sleep 1000", func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
	})
	outPath := filepath.Join(t.TempDir(), "events.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, "--root", ctxFor(t).root, "events", "--interval", "200ms", id)
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var types map[string]int
	if !pollUntil(15*time.Second, func() bool {
		types = map[string]int{}
		data, _ := os.ReadFile(outPath)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var ev statsEvent
			if json.Unmarshal([]byte(line), &ev) == nil && ev.ID == id {
				types[ev.Type]++
			}
		}
		return types["stats"] >= 2 && types["oom"] >= 1
	}) {
		data, _ := os.ReadFile(outPath)
		t.Fatalf("events: want >= 2 stats and an oom event, got %v\n%s\nstderr: %s", types, data, stderr.String())
	}
	mustRT(t, "kill", id, "KILL")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("events exited with %v after the container stopped: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("events still running 10s after the container was killed")
	}
}

func TestPs(t *testing.T) {
	requireCgroupV1(t, "devices")
	id, pid, _, _ := cgroupCmdsContainer(t, "sleep 1000")
	var pids []int
	out := mustRT(t, "ps", "--format", "json", id)
	if err := json.Unmarshal([]byte(out), &pids); err != nil {
		t.Fatalf("parse ps json %q: %v", out, err)
	}
	found := false
	for _, p := range pids {
		found = found || p == pid
	}
	if !found {
		t.Fatalf("ps json %v lacks the init pid %d", pids, pid)
	}

	table := mustRT(t, "ps", id)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], "PID") {
		t.Fatalf("ps table lacks a header and a process:\n%s", table)
	}
	if len(lines) != len(pids)+1 {
		t.Fatalf("ps table has %d processes, the cgroup %d:\n%s", len(lines)-1, len(pids), table)
	}
	if !strings.Contains(table, " "+strconv.Itoa(pid)+" ") || !strings.Contains(table, "sleep") {
		t.Fatalf("ps table lacks the init %d (sleep):\n%s", pid, table)
	}

	// ps options after the id go to ps(1).
	custom := mustRT(t, "ps", id, "-o", "pid,comm")
	if !strings.HasPrefix(strings.TrimSpace(custom), "PID") || !strings.Contains(custom, "sleep") {
		t.Fatalf("ps -o pid,comm:\n%s", custom)
	}
	rtFails(t, "invalid format option", "ps", "--format", "xml", id)
}
