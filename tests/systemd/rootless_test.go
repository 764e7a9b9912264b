//go:build systemdvm

package systemd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asUser runs a command as rtuser (uid 1000) with the environment of a
// login session of that user (XDG_RUNTIME_DIR: its systemd --user).
func asUser(args ...string) (string, int) {
	return run("setpriv", append([]string{"--reuid=1000", "--regid=1000", "--clear-groups", "env",
		"HOME=/home/rtuser", "XDG_RUNTIME_DIR=/run/user/1000", "PATH=/usr/bin:/bin"}, args...)...)
}

// TestRootlessUserManager: a rootless rt with --systemd-cgroup asks the
// user's systemd instance (user@1000.service) for the scope, in
// user.slice below the manager's own cgroup; delete removes it.
func TestRootlessUserManager(t *testing.T) {
	if out, code := run("systemctl", "start", "user@1000.service"); code != 0 {
		j, _ := run("journalctl", "--no-pager", "-n", "25", "-u", "user@1000.service", "-u", "user-runtime-dir@1000.service")
		t.Fatalf("systemctl start user@1000.service: exit %d: %s\n%s", code, out, j)
	}
	defer run("systemctl", "stop", "user@1000.service")
	dir, err := os.MkdirTemp("", "rt-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	cmd := exec.Command(rtBinary, "spec", "--rootless")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rt spec --rootless: %v: %s", err, out)
	}
	var s map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s["root"] = map[string]any{"path": rootfs, "readonly": true}
	proc := s["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "600"}
	lin := s["linux"].(map[string]any)
	lin["cgroupsPath"] = ":rt:sdrootless"
	// rt spec --rootless maps the uid that ran it (root here)
	m := []map[string]any{{"containerID": 0, "hostID": 1000, "size": 1}}
	lin["uidMappings"], lin["gidMappings"] = m, m
	b, _ = json.Marshal(s)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	root := "/run/user/1000/rt"
	out, code := asUser("sh", "-c", rtBinary+" --root "+root+" --systemd-cgroup run -d --bundle "+dir+" sdrootless </dev/null >/dev/null 2>/run/user/1000/rt-err; e=$?; cat /run/user/1000/rt-err; exit $e")
	if code != 0 {
		t.Fatalf("rootless rt --systemd-cgroup run -d: exit %d: %s", code, out)
	}
	defer asUser(rtBinary, "--root", root, "--systemd-cgroup", "delete", "-f", "sdrootless")
	unit := "rt-sdrootless.scope"
	out, _ = asUser("systemctl", "--user", "show", unit, "-p", "ActiveState,Delegate,ControlGroup")
	cgPath := "/user.slice/user-1000.slice/user@1000.service/user.slice/" + unit
	for _, want := range []string{"ActiveState=active", "Delegate=yes", "ControlGroup=" + cgPath} {
		if !strings.Contains(out, want) {
			t.Errorf("systemctl --user show %s: %q, want %s", unit, out, want)
		}
	}
	procs, err := os.ReadFile("/sys/fs/cgroup" + cgPath + "/cgroup.procs")
	if err != nil || strings.TrimSpace(string(procs)) == "" {
		t.Errorf("%s/cgroup.procs: %q %v", cgPath, procs, err)
	}
	if out, code := asUser(rtBinary, "--root", root, "--systemd-cgroup", "delete", "-f", "sdrootless"); code != 0 {
		t.Errorf("rootless delete -f: exit %d: %s", code, out)
	}
	if !waitFor(20*time.Second, func() bool {
		_, err := os.Stat("/sys/fs/cgroup" + cgPath)
		return os.IsNotExist(err)
	}) {
		t.Errorf("%s left after delete", cgPath)
	}
	if out, _ := asUser("systemctl", "--user", "show", unit, "-p", "LoadState"); !strings.Contains(out, "LoadState=not-found") {
		t.Errorf("after delete: %s", out)
	}
}
