package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// processesInBundle lists pids whose root or cwd is inside dir.
func processesInBundle(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		for _, l := range []string{"root", "cwd"} {
			target, err := os.Readlink(filepath.Join("/proc", e.Name(), l))
			if err == nil && (target == dir || strings.HasPrefix(target, dir+"/")) {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

// expectCreateFails runs create and run for the bundle and checks that
// both fail with a message containing want (case-insensitive) and leave
// nothing behind.
func expectCreateFails(t *testing.T, b *bundle, want string) {
	t.Helper()
	for _, cmd := range []string{"create", "run"} {
		id := newID(t)
		_, se, code := rt(t, cmd, "--bundle", b.Dir, id)
		if code == 0 {
			t.Fatalf("%s succeeded, want an error mentioning %q", cmd, want)
		}
		if !strings.Contains(strings.ToLower(se), strings.ToLower(want)) {
			t.Errorf("%s error does not mention %q: %s", cmd, want, se)
		}
		assertNoState(t, id)
		assertNoCgroupNamed(t, id)
		if m := mountsUnder(b.Dir); len(m) > 0 {
			t.Errorf("%s left mounts under the bundle: %v", cmd, m)
		}
		if p := processesInBundle(b.Dir); len(p) > 0 {
			t.Errorf("%s left processes in the bundle: %v", cmd, p)
		}
	}
}

func TestBadMalformedConfig(t *testing.T) {
	b := newBundle(t)
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	expectCreateFails(t, b, "config.json")
}

func TestBadMissingConfig(t *testing.T) {
	b := newBundle(t)
	if err := os.Remove(filepath.Join(b.Dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	expectCreateFails(t, b, "config.json")
}

func TestBadMissingBundle(t *testing.T) {
	b := newBundle(t)
	b.Dir = filepath.Join(b.Dir, "nope")
	expectCreateFails(t, b, "no such file")
}

// TestBadOCIVersion: a config of an incompatible major version must be
// refused.
func TestBadOCIVersion(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Version = "2.0.0" })
	expectCreateFails(t, b, "version")
}

func TestBadNamespaceType(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
	})
	expectCreateFails(t, b, "bogus")
}

func TestBadDuplicateNamespace(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	})
	expectCreateFails(t, b, "network")
}

// A relative mount destination is taken relative to "/" with a warning, as
// runc 1.5 does (runtime-spec 1.2 deprecated them; a runtime MAY accept them).
func TestRelativeMountDestination(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "grep ' /relative/dir ' /proc/self/mountinfo"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "relative/dir", Type: "tmpfs", Source: "tmpfs"})
	})
	so, se, code := runIn(t, b)
	if code != 0 {
		t.Fatalf("run: exit %d\nstdout: %s\nstderr: %s", code, so, se)
	}
	mustContain(t, "mountinfo of the container", so, " /relative/dir ")
	mustContain(t, "rt's warning", se, "relative/dir is not absolute")
}

func TestBadMissingRootfs(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" })
	expectCreateFails(t, b, "no-such-rootfs")
}

func TestBadNoProcess(t *testing.T) {
	b := newBundle(t, func(s *specs.Spec) { s.Process = nil })
	expectCreateFails(t, b, "process")
}

func TestBadMountSourceMissing(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/source", Options: []string{"bind"}})
	})
	expectCreateFails(t, b, "/no/such/source")
}

func TestBadIDs(t *testing.T) {
	b := newBundle(t, withArgs("true"))
	for _, id := range []string{"../escape", "a/b", ".", ""} {
		_, se, code := rt(t, "create", "--bundle", b.Dir, id)
		if code == 0 {
			t.Errorf("create with id %q succeeded", id)
			rt(t, "delete", "--force", id)
			continue
		}
		if se == "" {
			t.Errorf("create with id %q: no error message", id)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ctxFor(t).root), "escape")); err == nil {
		t.Errorf("id ../escape created a dir outside the state root")
	}
}

// TestHugeValuesRejected: a value far beyond what the kernel takes (a 1 MB
// cgroupsPath, hostname, argument...) is refused before anything is made,
// with a short error that names the field and does not echo the value; a
// config.json beyond rt's limit is refused before it is parsed.
func TestHugeValuesRejected(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	for _, c := range []struct {
		field string
		set   func(*specs.Spec)
	}{
		{"linux.cgroupsPath", func(s *specs.Spec) { s.Linux.CgroupsPath = "/" + big }},
		{"hostname", func(s *specs.Spec) { s.Hostname = big }},
		{"process.args[0]", func(s *specs.Spec) { s.Process.Args = []string{big} }},
		{"process.env[1]", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env[:1], "X="+big) }},
		{"process.cwd", func(s *specs.Spec) { s.Process.Cwd = "/" + big }},
		{"mounts[0].destination", func(s *specs.Spec) { s.Mounts[0].Destination = "/" + big }},
		{"annotations[\"k\"]", func(s *specs.Spec) { s.Annotations = map[string]string{"k": big + big} }},
		{"hooks.prestart[0].path", func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/" + big}}} }},
		{"config.json", func(s *specs.Spec) {
			s.Annotations = map[string]string{"a": big, "b": big, "c": big, "d": big, "e": big, "f": big, "g": big, "h": big, "i": big}
		}},
	} {
		t.Run(c.field, func(t *testing.T) {
			b := newBundle(t, c.set)
			for _, cmd := range []string{"create", "run"} {
				id := newID(t)
				_, se, code := rt(t, cmd, "--bundle", b.Dir, id)
				if code == 0 {
					t.Fatalf("%s succeeded", cmd)
				}
				if !strings.Contains(se, c.field) {
					t.Errorf("%s error does not name %s: %.300s", cmd, c.field, se)
				}
				if len(se) > 512 {
					t.Errorf("%s error is %d bytes long (the value echoed?): %.300s", cmd, len(se), se)
				}
				assertNoState(t, id)
				assertNoCgroupNamed(t, id)
			}
		})
	}
	// exec --process: the same limits.
	b := newBundle(t, withArgs("sleep", "1000"))
	id, _ := createContainer(t, b)
	proc := filepath.Join(t.TempDir(), "process.json")
	p := *b.Spec.Process
	p.Args = []string{"echo", big}
	data, _ := json.Marshal(&p)
	if err := os.WriteFile(proc, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, se, code := rt(t, "exec", "--process", proc, id)
	if code == 0 || !strings.Contains(se, "process.args[1]") || len(se) > 512 {
		t.Errorf("exec --process with a 1 MB argument: exit %d, %.300s", code, se)
	}
}
