package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hookLog is a host dir that is also bind-mounted at /hooklog in the
// container, so hooks on either side can append to the same log.
type hookLog struct{ dir string }

func (h hookLog) lines(t *testing.T) []string {
	data, err := os.ReadFile(filepath.Join(h.dir, "log"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// hostHook makes a hook that appends "<name> <mnt ns> <host|rootfs>" to the
// log and saves its stdin (the state JSON) to <name>.json. logDir is the
// log directory as the hook sees it.
func hostHook(name, logDir string) specs.Hook {
	script := `cat > ` + logDir + `/` + name + `.json; ` +
		`m=host; [ -e /rootfs-marker ] && m=rootfs; ` +
		`echo "` + name + ` $(readlink /proc/self/ns/mnt) $m" >> ` + logDir + `/log`
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}}
}

func newHookBundle(t *testing.T, args ...string) (*bundle, hookLog) {
	h := hookLog{dir: t.TempDir()}
	if err := os.Chmod(h.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, withArgs(args...), func(s *specs.Spec) {
		s.Hostname = "hooked"
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hooklog", Type: "bind", Source: h.dir, Options: []string{"rbind", "rw"}})
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hostHook("prestart", h.dir)},
			CreateRuntime:   []specs.Hook{hostHook("createRuntime", h.dir)},
			CreateContainer: []specs.Hook{hostHook("createContainer", h.dir)},
			StartContainer:  []specs.Hook{hostHook("startContainer", "/hooklog")},
			Poststart:       []specs.Hook{hostHook("poststart", h.dir)},
			Poststop:        []specs.Hook{hostHook("poststop", h.dir)},
		}
	})
	if err := os.WriteFile(filepath.Join(b.Rootfs, "rootfs-marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return b, h
}

func TestHooksOrderAndNamespaces(t *testing.T) {
	b, h := newHookBundle(t, "sh", "-c", "echo user-process $(hostname) >> /hooklog/log; sleep 1000")
	hostNS := nsInode(t, os.Getpid(), "mnt")
	id, pid := createContainer(t, b)
	contNS := nsInode(t, pid, "mnt")
	want := []string{
		"prestart " + hostNS + " host",
		"createRuntime " + hostNS + " host",
		// createContainer runs in the container's namespaces, before pivot_root.
		"createContainer " + contNS + " host",
	}
	if got := h.lines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("hooks after create:\n got %q\nwant %q", got, want)
	}
	mustRT(t, "start", id)
	want = append(want,
		// startContainer runs in the container, after pivot_root.
		"startContainer "+contNS+" rootfs",
		"user-process hooked",
		"poststart "+hostNS+" host",
	)
	pollUntil(5*time.Second, func() bool { return len(h.lines(t)) >= len(want) })
	got := h.lines(t)
	// The user process and poststart race; compare them as a set.
	if len(got) != len(want) || strings.Join(got[:4], "|") != strings.Join(want[:4], "|") ||
		!contains(got[4:], want[4]) || !contains(got[4:], want[5]) {
		t.Fatalf("hooks after start:\n got %q\nwant %q", got, want)
	}
	mustRT(t, "kill", id, "KILL")
	waitStatus(t, id, "stopped")
	mustRT(t, "delete", id)
	want = append(want, "poststop "+hostNS+" host")
	if got := h.lines(t); len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("hooks after delete:\n got %q\nwant last %q", got, want[len(want)-1])
	}
}

func readHookState(t *testing.T, h hookLog, name string) specs.State {
	t.Helper()
	var st specs.State
	data := readFile(t, filepath.Join(h.dir, name+".json"))
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		t.Fatalf("%s hook stdin is not state JSON: %v: %q", name, err, data)
	}
	return st
}

func TestHooksStdinState(t *testing.T) {
	b, h := newHookBundle(t, "sleep", "1000")
	id, pid := startContainer(t, b)
	pollUntil(5*time.Second, func() bool { _, err := os.Stat(filepath.Join(h.dir, "poststart.json")); return err == nil })
	// Runtime-namespace hooks get the pid as the host sees it; hooks in
	// the container namespace get it as the container sees it (1 in a new
	// pid namespace), per runtime-spec runtime.md "State".
	for name, wantPid := range map[string]int{"prestart": pid, "createRuntime": pid, "poststart": pid, "createContainer": 1, "startContainer": 1} {
		st := readHookState(t, h, name)
		if st.ID != id || st.Pid != wantPid || st.Bundle != b.Dir || st.Version == "" {
			t.Errorf("%s hook state: id %q pid %d bundle %q version %q; want %q %d %q", name, st.ID, st.Pid, st.Bundle, st.Version, id, wantPid, b.Dir)
		}
	}
	if st := readHookState(t, h, "startContainer"); st.Status != "created" && st.Status != "running" {
		t.Errorf("startContainer hook status %q", st.Status)
	}
	// runc 1.1.5 passes "created" here (runc issue #1710, see notes).
	if st := readHookState(t, h, "poststart"); st.Status != "running" {
		t.Errorf("poststart hook status %q, want running", st.Status)
	}
	mustRT(t, "delete", "--force", id)
	if st := readHookState(t, h, "poststop"); st.ID != id || st.Status != "stopped" {
		t.Errorf("poststop hook state: id %q status %q, want %q stopped", st.ID, st.Status, id)
	}
}

func TestHookFailureAbortsCreate(t *testing.T) {
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(kind, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-said-no >&2; exit 3"}}
			after := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}
			b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{}
				switch kind {
				case "prestart":
					s.Hooks.Prestart = []specs.Hook{fail, after}
				case "createRuntime":
					s.Hooks.CreateRuntime = []specs.Hook{fail, after}
				case "createContainer":
					s.Hooks.CreateContainer = []specs.Hook{fail, after}
				}
			})
			id := newID(t)
			_, se, code := rt(t, "create", "--bundle", b.Dir, id)
			if code == 0 {
				t.Fatalf("create succeeded although a %s hook failed", kind)
			}
			if se == "" {
				t.Errorf("no error message for a failed %s hook", kind)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("hooks after the failing %s hook still ran", kind)
			}
			assertNoState(t, id)
			assertNoCgroupNamed(t, id)
		})
	}
}

func TestHookTimeout(t *testing.T) {
	timeout := 1
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "20"}, Timeout: &timeout}}}
	})
	id := newID(t)
	start := time.Now()
	_, se, code := rt(t, "create", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("create succeeded although its hook timed out")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hook with timeout 1s held create for %v", d)
	}
	mustContain(t, "hook timeout error", strings.ToLower(se), "timeout")
	assertNoState(t, id)
	assertNoCgroupNamed(t, id)
}

func TestPoststopRunsOnDeleteOfCreated(t *testing.T) {
	b, h := newHookBundle(t, "sleep", "1000")
	id, _ := createContainer(t, b)
	mustRT(t, "delete", "--force", id)
	got := h.lines(t)
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "poststop ") {
		t.Errorf("poststop did not run on delete of a created container: %q", got)
	}
}

// TestRunPoststartFailure: a failing poststart hook stops the container
// (spec 1.3); `run` (which starts the container within its create) and
// create + start both end with it deleted as `delete --force` deletes
// one: the poststop hooks run, and nothing is left.
func TestRunPoststartFailure(t *testing.T) {
	for _, verb := range []string{"run", "run -d", "create+start"} {
		t.Run(verb, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "poststop-ran")
			b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{
					Poststart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo poststart-said-no >&2; exit 3"}}},
					Poststop:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}},
				}
			})
			id := newID(t)
			var se string
			var code int
			switch verb {
			case "run":
				_, se, code = rt(t, "run", "--bundle", b.Dir, id)
			case "run -d":
				_, se, code = rt(t, "run", "-d", "--bundle", b.Dir, id)
			default:
				mustRT(t, "create", "--bundle", b.Dir, id)
				_, se, code = rt(t, "start", id)
				if code != 0 {
					mustRT(t, "delete", "--force", id)
				}
			}
			if code == 0 {
				t.Fatalf("%s succeeded although its poststart hook failed", verb)
			}
			mustContain(t, "error", se, "poststart")
			if _, err := os.Stat(marker); err != nil {
				t.Errorf("%s: the poststop hook did not run: %v", verb, err)
			}
			assertNoState(t, id)
			assertNoCgroupNamed(t, id)
		})
	}
}
