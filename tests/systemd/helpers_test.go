//go:build systemdvm

package systemd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cmdTimeout bounds every command (the VM is 10-20x slower than native).
const cmdTimeout = 90 * time.Second

var (
	specOnce sync.Once
	specJSON []byte
	specErr  error

	createdMu sync.Mutex
	created   []string
)

// run runs a command with a bound and returns its combined output and
// exit code (-1 when it could not run).
func run(name string, args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		}
		return out.String() + err.Error(), -1
	}
	return out.String(), 0
}

// rt runs rt --root stateDir --systemd-cgroup ARGS.
func rt(args ...string) (string, int) {
	return run(rtBinary, append([]string{"--root", stateDir, "--systemd-cgroup"}, args...)...)
}

func mustRT(t *testing.T, args ...string) string {
	t.Helper()
	out, code := rt(args...)
	if code != 0 {
		t.Fatalf("rt %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

// show returns the unit's properties (systemctl show -p ...).
func show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	out, code := run("systemctl", "show", unit, "-p", strings.Join(props, ","))
	if code != 0 {
		t.Fatalf("systemctl show %s: exit %d: %s", unit, code, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// baseSpec is `rt spec` made fit for these tests.
func baseSpec(t *testing.T, cgroupsPath string, args ...string) *specs.Spec {
	t.Helper()
	specOnce.Do(func() {
		dir, err := os.MkdirTemp(workDir, "spec-")
		if err != nil {
			specErr = err
			return
		}
		cmd := exec.Command(rtBinary, "spec")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			specErr = fmt.Errorf("rt spec: %v: %s", err, out)
			return
		}
		specJSON, specErr = os.ReadFile(filepath.Join(dir, "config.json"))
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	var s specs.Spec
	if err := json.Unmarshal(specJSON, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = args
	s.Root = &specs.Root{Path: rootfs, Readonly: false}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", "size=64m"}})
	s.Linux.CgroupsPath = cgroupsPath
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	return &s
}

func writeBundle(t *testing.T, id string, s *specs.Spec) string {
	t.Helper()
	dir := filepath.Join(workDir, "bundle-"+id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func track(id string) {
	createdMu.Lock()
	created = append(created, id)
	createdMu.Unlock()
}

// runDetached starts id from s in the background (rt run -d).
func runDetached(t *testing.T, id string, s *specs.Spec) {
	t.Helper()
	bundle := writeBundle(t, id, s)
	track(id)
	log := filepath.Join(workDir, id+".out")
	out, code := run("sh", "-c", fmt.Sprintf("exec %s --root %s --systemd-cgroup run -d --bundle %s %s >%s 2>&1 </dev/null",
		rtBinary, stateDir, bundle, id, log))
	if code != 0 {
		b, _ := os.ReadFile(log)
		t.Fatalf("rt run -d %s: exit %d: %s%s", id, code, out, b)
	}
}

func runForeground(t *testing.T, id string, s *specs.Spec) (string, int) {
	t.Helper()
	bundle := writeBundle(t, id, s)
	track(id)
	return rt("run", "--bundle", bundle, id)
}

func cleanupContainers() {
	createdMu.Lock()
	defer createdMu.Unlock()
	for _, id := range created {
		rt("delete", "-f", id)
	}
}

func status(t *testing.T, id string) string {
	t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(mustRT(t, "state", id)), &st); err != nil {
		t.Fatalf("rt state %s: %v", id, err)
	}
	return string(st.Status)
}

func initPid(t *testing.T, id string) int {
	t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(mustRT(t, "state", id)), &st); err != nil {
		t.Fatalf("rt state %s: %v", id, err)
	}
	return st.Pid
}

func readCg(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

func cgKey(t *testing.T, dir, name, key string) string {
	t.Helper()
	for _, line := range strings.Split(readCg(t, dir, name), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			return v
		}
	}
	return ""
}

func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gone asserts systemd and cgroupfs have forgotten the unit.
func gone(t *testing.T, unit, dir string) {
	t.Helper()
	ok := waitFor(20*time.Second, func() bool {
		_, err := os.Stat(dir)
		p := show(t, unit, "LoadState", "ActiveState")
		return os.IsNotExist(err) && p["LoadState"] == "not-found" && p["ActiveState"] == "inactive"
	})
	if !ok {
		_, err := os.Stat(dir)
		t.Errorf("unit %s still known (%v) or its cgroup %s still there (stat: %v)", unit, show(t, unit, "LoadState", "ActiveState"), dir, err)
	}
	if out, _ := run("systemctl", "list-units", "--all", "--no-legend", unit); strings.TrimSpace(out) != "" {
		t.Errorf("systemctl list-units --all %s: %s", unit, out)
	}
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
