package intelrdt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeResctrl makes a directory tree shaped like resctrl and makes mkdir
// and rmdir behave as the kernel's do there.
func fakeResctrl(t *testing.T) string {
	root := t.TempDir()
	populate := func(dir string, ctrl bool) error {
		for _, f := range []string{"tasks", "cpus", "mon_data"} {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
				return err
			}
		}
		if ctrl {
			os.WriteFile(filepath.Join(dir, "schemata"), nil, 0o644)
			return os.Mkdir(filepath.Join(dir, "mon_groups"), 0o755)
		}
		return nil
	}
	if err := populate(root, true); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "info"), 0o755)
	oldMk, oldRm := mkdir, rmdir
	mkdir = func(path string) error {
		if err := os.Mkdir(path, 0o755); err != nil {
			return err
		}
		return populate(path, filepath.Base(filepath.Dir(path)) != "mon_groups")
	}
	rmdir = func(path string) error {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		return os.RemoveAll(path)
	}
	t.Cleanup(func() { mkdir, rmdir = oldMk, oldRm })
	return root
}

// read returns a file of the fake tree (plain files keep the last write).
func read(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyNewGroup(t *testing.T) {
	root := fakeResctrl(t)
	r := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", EnableMonitoring: true}
	g, err := Apply(root, r, "ctr1", 4242)
	if err != nil {
		t.Fatal(err)
	}
	if g.Path != filepath.Join(root, "ctr1") || !g.Created {
		t.Fatalf("group %+v: want a new group named after the container", g)
	}
	if got := read(t, filepath.Join(g.Path, "schemata")); got != "MB:0=50\n" && got != "L3:0=f\n" {
		// each line is written on its own: the plain file keeps the last.
		t.Errorf("schemata: %q", got)
	}
	if got := read(t, filepath.Join(g.Path, "tasks")); got != "4242" {
		t.Errorf("tasks: %q, want 4242", got)
	}
	if g.MonPath != filepath.Join(g.Path, "mon_groups", "ctr1") {
		t.Errorf("mon path %q", g.MonPath)
	}
	if got := read(t, filepath.Join(g.MonPath, "tasks")); got != "4242" {
		t.Errorf("monitoring tasks: %q, want 4242", got)
	}
	if err := AddPid(g, 4343); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(g.MonPath, "tasks")); got != "4343" {
		t.Errorf("monitoring tasks after exec: %q, want 4343", got)
	}
	if err := g.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("group left after Destroy: %v", err)
	}
}

func TestApplySchemataLines(t *testing.T) {
	root := fakeResctrl(t)
	var written []string
	// The fake's schemata is a plain file (it keeps the last write): the
	// lines are checked through schemata(), the last one in the file.
	r := &specs.LinuxIntelRdt{Schemata: []string{"L3:0=ff", "MB:0=20"}, L3CacheSchema: "L3:0=1"}
	if got := schemata(r); strings.Join(got, "|") != "L3:0=ff|MB:0=20" {
		t.Errorf("schemata replaces l3CacheSchema/memBwSchema: got %q", got)
	}
	written = schemata(&specs.LinuxIntelRdt{L3CacheSchema: "L3CODE:0=f\nL3DATA:0=f", MemBwSchema: "MB:0=10"})
	if strings.Join(written, "|") != "L3CODE:0=f|L3DATA:0=f|MB:0=10" {
		t.Errorf("l3CacheSchema lines and memBwSchema: %q", written)
	}
	g, err := Apply(root, r, "ctr2", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(g.Path, "schemata")); got != "MB:0=20\n" {
		t.Errorf("last schemata line written: %q", got)
	}
}

func TestApplyJoinsExistingClosID(t *testing.T) {
	root := fakeResctrl(t)
	if err := mkdir(filepath.Join(root, "shared")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "shared", "schemata"), []byte("L3:0=3\n"), 0o644)
	g, err := Apply(root, &specs.LinuxIntelRdt{ClosID: "shared", L3CacheSchema: "L3:0=f"}, "ctr3", 77)
	if err != nil {
		t.Fatal(err)
	}
	if g.Created {
		t.Errorf("an existing closID group is joined, not made")
	}
	if got := read(t, filepath.Join(root, "shared", "schemata")); got != "L3:0=3\n" {
		t.Errorf("a joined group's schemata were rewritten: %q", got)
	}
	if got := read(t, filepath.Join(root, "shared", "tasks")); got != "77" {
		t.Errorf("tasks: %q", got)
	}
	if err := g.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "shared")); err != nil {
		t.Errorf("a joined group was removed: %v", err)
	}
	// A new closID group is made and removed.
	g, err = Apply(root, &specs.LinuxIntelRdt{ClosID: "mine"}, "ctr4", 78)
	if err != nil || !g.Created {
		t.Fatalf("new closID group: %+v, %v", g, err)
	}
	g.Destroy()
	if _, err := os.Stat(filepath.Join(root, "mine")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("made closID group left: %v", err)
	}
}

func TestApplyFailureLeavesNothing(t *testing.T) {
	root := fakeResctrl(t)
	// A group without a tasks file: the kernel would refuse the pid.
	oldMk := mkdir
	mkdir = func(path string) error { return os.Mkdir(path, 0o755) }
	defer func() { mkdir = oldMk }()
	_, err := Apply(root, &specs.LinuxIntelRdt{}, "ctr5", 1)
	if err == nil || !strings.Contains(err.Error(), "linux.intelRdt") {
		t.Fatalf("Apply = %v, want an error naming linux.intelRdt", err)
	}
	if _, err := os.Stat(filepath.Join(root, "ctr5")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed Apply left its group: %v", err)
	}
}

func TestRootWithoutResctrl(t *testing.T) {
	if _, err := Root(); err != nil && !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Root: %v", err)
	} else if err != nil && !strings.Contains(err.Error(), "linux.intelRdt") {
		t.Errorf("error does not name the field: %v", err)
	}
}

// The planned group, recorded before Apply, removes what Apply made.
func TestPlanThenCrash(t *testing.T) {
	root := fakeResctrl(t)
	r := &specs.LinuxIntelRdt{EnableMonitoring: true}
	plan := Plan(root, r, "ctr6")
	if !plan.Created || plan.Path != filepath.Join(root, "ctr6") || plan.MonPath != filepath.Join(root, "ctr6", "mon_groups", "ctr6") {
		t.Fatalf("plan %+v", plan)
	}
	if _, err := Apply(root, r, "ctr6", 5); err != nil {
		t.Fatal(err)
	}
	// rt dies here; delete uses the recorded plan.
	if err := plan.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(plan.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("group left: %v", err)
	}
	// An existing closID group is never planned for removal.
	mkdir(filepath.Join(root, "cos"))
	if p := Plan(root, &specs.LinuxIntelRdt{ClosID: "cos"}, "ctr7"); p.Created {
		t.Errorf("existing group planned as made: %+v", p)
	}
}
