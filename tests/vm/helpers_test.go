package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// cmdTimeout bounds every rt call (the VM is 10-20x slower than native).
const cmdTimeout = 60 * time.Second

var (
	specOnce sync.Once
	specJSON []byte
	specErr  error

	createdMu sync.Mutex
	created   []string
)

// rt runs bin/rt with --root stateDir and returns its combined output
// and exit code (-1 when it could not run).
func rt(args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", stateDir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		return out.String() + err.Error(), -1
	}
	return out.String(), 0
}

// mustRT runs rt and fails the test on a non-zero exit.
func mustRT(t *testing.T, args ...string) string {
	t.Helper()
	out, code := rt(args...)
	if code != 0 {
		t.Fatalf("rt %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

// baseSpec is `rt spec` made fit for these tests: no terminal, the
// shared writable rootfs, a tmpfs /tmp, the given args and cgroupsPath.
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

// writeBundle writes s as id's bundle and returns the bundle dir.
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

// runDetached starts id from s in the background (rt run -d) with its
// output in a file, and records it for cleanup.
func runDetached(t *testing.T, id string, s *specs.Spec) {
	t.Helper()
	bundle := writeBundle(t, id, s)
	log, err := os.Create(filepath.Join(workDir, id+".out"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, "--root", stateDir, "run", "-d", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = log, log
	createdMu.Lock()
	created = append(created, id)
	createdMu.Unlock()
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("rt run -d %s: %v: %s", id, err, out)
	}
}

// runForeground runs id from s to completion (rt run) and returns its
// output and exit code.
func runForeground(t *testing.T, id string, s *specs.Spec) (string, int) {
	t.Helper()
	bundle := writeBundle(t, id, s)
	createdMu.Lock()
	created = append(created, id)
	createdMu.Unlock()
	return rt("run", "--bundle", bundle, id)
}

func cleanupContainers() {
	createdMu.Lock()
	defer createdMu.Unlock()
	for _, id := range created {
		rt("delete", "-f", id)
	}
}

// status returns the container's "status" from rt state.
func status(t *testing.T, id string) string {
	t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(mustRT(t, "state", id)), &st); err != nil {
		t.Fatalf("rt state %s: %v", id, err)
	}
	return string(st.Status)
}

// readCg reads a file of a cgroup, trimmed.
func readCg(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

// cgKey returns the value of key in a "key value" cgroup file.
func cgKey(t *testing.T, dir, name, key string) string {
	t.Helper()
	for _, line := range strings.Split(readCg(t, dir, name), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			return v
		}
	}
	return ""
}

// waitFor polls cond every 100ms until it holds or d passes.
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

func i64(v int64) *int64            { return &v }
func u64(v uint64) *uint64          { return &v }
func fm(v os.FileMode) *os.FileMode { return &v }
