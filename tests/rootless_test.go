package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rootlessUID is an unprivileged uid with no passwd entry needed.
const rootlessUID = 1500

// asUser runs the runtime as rootlessUID with --root root.
func asUser(t *testing.T, root string, args ...string) result {
	t.Helper()
	full := append([]string{fmt.Sprintf("--reuid=%d", rootlessUID), fmt.Sprintf("--regid=%d", rootlessUID),
		"--clear-groups", rtBinary, "--root", root}, args...)
	return runBinary("/usr/bin/setpriv", full, nil, "", nil)
}

// TestRootless: an unprivileged user runs a container from `spec
// --rootless`: a user namespace mapping its uid to root, no cgroup access
// (run without), the binary sealed in a memfd instead of a mount.
func TestRootless(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	b := newBundle(t)
	root := filepath.Join(t.TempDir(), "state")
	os.Mkdir(root, 0o700)
	for _, p := range []string{b.Dir, root} {
		filepath.Walk(p, func(path string, _ os.FileInfo, _ error) error {
			return os.Lchown(path, rootlessUID, rootlessUID)
		})
		for d := p; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
	}
	os.Chmod(root, 0o700)
	os.Remove(filepath.Join(b.Dir, "config.json"))
	if r := asUser(t, root, "spec", "--rootless", "--bundle", b.Dir); r.code != 0 {
		t.Fatalf("spec --rootless as uid %d: %s", rootlessUID, r.stderr)
	}
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(b.Dir, "config.json"))), &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"sleep", "100"}
	b.Spec = &s
	b.write(t)
	os.Lchown(filepath.Join(b.Dir, "config.json"), rootlessUID, rootlessUID)

	id := "rootless-" + fmt.Sprint(os.Getpid())
	defer asUser(t, root, "delete", "--force", id)
	if r := asUser(t, root, "run", "--detach", "--bundle", b.Dir, id); r.code != 0 {
		t.Fatalf("run as uid %d: exit %d: %s", rootlessUID, r.code, r.stderr)
	}
	r := asUser(t, root, "exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map")
	if f := strings.Fields(r.stdout); r.code != 0 || len(f) != 4 || f[0] != "0" || f[1] != "0" || f[2] != fmt.Sprint(rootlessUID) || f[3] != "1" {
		t.Errorf("exec in rootless container: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = asUser(t, root, "state", id)
	var st specs.State
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Status != "running" {
		t.Fatalf("state: %q %v", r.stdout, err)
	}
	if owner := procStatus(t, st.Pid)["Uid"]; !strings.HasPrefix(owner, fmt.Sprint(rootlessUID)) {
		t.Errorf("container process host uid %q, want %d", owner, rootlessUID)
	}
	if r := asUser(t, root, "kill", id, "KILL"); r.code != 0 {
		t.Fatalf("kill: %s", r.stderr)
	}
	waitGone(st.Pid, 5*time.Second)
	if r := asUser(t, root, "delete", id); r.code != 0 {
		t.Errorf("delete: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir left after delete: %v", err)
	}
}
