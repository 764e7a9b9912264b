package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups"
)

// fakeManager is a cgroup whose processes rt would signal one by one.
type fakeManager struct {
	paths   map[string]string
	getPids int
}

func (f *fakeManager) Apply(int) error                     { return nil }
func (f *fakeManager) Set(*specs.LinuxResources) error     { return nil }
func (f *fakeManager) Destroy() error                      { return nil }
func (f *fakeManager) Paths() map[string]string            { return f.paths }
func (f *fakeManager) GetPids() ([]int, error)             { f.getPids++; return nil, nil }
func (f *fakeManager) Exists() bool                        { return true }
func (f *fakeManager) Freeze() error                       { return errors.New("no") }
func (f *fakeManager) Thaw() error                         { return nil }
func (f *fakeManager) IsFrozen() (bool, error)             { return false, nil }
func (f *fakeManager) EffectivelyFrozen() (bool, error)    { return false, nil }
func (f *fakeManager) Stats() (*cgroups.Stats, error)      { return nil, nil }
func (f *fakeManager) NotifyOOM() (<-chan struct{}, error) { return nil, nil }

// On cgroup v2 with cgroup.kill, SIGKILL to all goes through it (runc
// 1.5); elsewhere rt signals each pid of cgroup.procs.
func TestSignalCgroupUsesCgroupKill(t *testing.T) {
	dir := t.TempDir()
	kill := filepath.Join(dir, "cgroup.kill")
	if err := os.WriteFile(kill, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &fakeManager{paths: map[string]string{"": dir}}
	if err := signalCgroup(m, unix.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kill); string(b) != "1" || m.getPids != 0 {
		t.Errorf("v2 with cgroup.kill: cgroup.kill %q, %d pid listings; want \"1\" and none", b, m.getPids)
	}
	// Another signal: pid by pid.
	os.WriteFile(kill, nil, 0o644)
	if err := signalCgroup(m, unix.SIGTERM, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kill); len(b) != 0 || m.getPids != 1 {
		t.Errorf("SIGTERM: cgroup.kill %q, %d pid listings; want untouched and one", b, m.getPids)
	}
	// No cgroup.kill (older kernel), or a v1/hybrid layout: pid by pid.
	for _, paths := range []map[string]string{{"": t.TempDir()}, {"": dir, "memory": t.TempDir()}} {
		os.WriteFile(kill, nil, 0o644)
		m := &fakeManager{paths: paths}
		if err := signalCgroup(m, unix.SIGKILL, false); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(kill); len(b) != 0 || m.getPids != 1 {
			t.Errorf("%v: cgroup.kill %q, %d pid listings; want the per-pid loop", paths, b, m.getPids)
		}
	}
}
