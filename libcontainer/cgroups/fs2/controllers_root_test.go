package fs2

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

// needControllers skips unless the cgroup2 root offers every controller
// in want (a hybrid host's cgroup2 has none; the VM of make test-v2 has
// them all).
func needControllers(t *testing.T, mount string, want ...string) {
	t.Helper()
	avail, err := readControllers(mount)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range want {
		if !avail[c] {
			t.Skipf("the cgroup2 hierarchy at %s has no %s controller (cgroup v1/hybrid host; run via make test-v2)", mount, c)
		}
	}
}

func TestSetWritesV2Files(t *testing.T) {
	mount := cgroup2Mount(t)
	needControllers(t, mount, "memory", "pids", "cpu")
	lim, swap, pids := int64(32<<20), int64(48<<20), int64(10)
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: &lim, Swap: &swap, Reservation: i64(8 << 20)},
		Pids:    &specs.LinuxPids{Limit: &pids},
		CPU:     &specs.LinuxCPU{Shares: u64p(1024), Quota: i64(20000), Period: u64p(100000)},
		Unified: map[string]string{"memory.high": "30M"},
	}
	m := newTestManager(t, r)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory.max":  strconv.Itoa(32 << 20),
		"memory.low":  strconv.Itoa(8 << 20),
		"memory.high": strconv.Itoa(30 << 20),
		"pids.max":    "10",
		"cpu.weight":  "39",
		"cpu.max":     "20000 100000",
	}
	if cgutil.Exists(m.dir, "memory.swap.max") {
		want["memory.swap.max"] = strconv.Itoa(16 << 20) // swap-only: 48M - 32M
	}
	for f, w := range want {
		got, err := cgutil.ReadFile(m.dir, f)
		if err != nil || strings.TrimSpace(got) != w {
			t.Errorf("%s = %q, %v; want %q", f, strings.TrimSpace(got), err, w)
		}
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.Usage.Limit != 32<<20 || s.Pids.Limit != 10 {
		t.Errorf("stats: memory limit %d, pids limit %d", s.Memory.Usage.Limit, s.Pids.Limit)
	}
}

func TestNotifyOOM(t *testing.T) {
	mount := cgroup2Mount(t)
	needControllers(t, mount, "memory")
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd in PATH")
	}
	lim := int64(16 << 20)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &lim}}
	m := newTestManager(t, r)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	ch, err := m.NotifyOOM()
	if err != nil {
		t.Fatal(err)
	}
	hog := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	startInCgroup(t, m, hog)
	_ = hog.Wait()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatal("channel closed before any OOM")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no OOM notification within 15s")
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("a second OOM value instead of close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed within 5s of Destroy")
	}
}

// A parent with processes of its own cannot give a needed domain
// controller (memory; threaded ones like pids are exempt) to the
// container's cgroup: the error says so.
func TestInternalProcessesError(t *testing.T) {
	mount := cgroup2Mount(t)
	needControllers(t, mount, "memory")
	parent := filepath.Join(mount, fmt.Sprintf("rt-fs2-busy-%d", os.Getpid()))
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(parent)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	if err := cgutil.WriteFile(parent, "cgroup.procs", strconv.Itoa(sleeper.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	lim := int64(64 << 20)
	cfg := &configs.Cgroup{
		Path:      strings.TrimPrefix(parent, mount) + "/ctr",
		Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &lim}},
	}
	m, err := newManager(cfg, "x", mount)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	err = m.Apply(-1)
	if !errors.Is(err, ErrInternalProcesses) || !strings.Contains(err.Error(), `linux.resources.memory: enable controller "memory"`) {
		t.Fatalf("got %v, want ErrInternalProcesses naming linux.resources.memory", err)
	}
	t.Logf("error: %v", err)
}

func u64p(v uint64) *uint64 { return &v }
