package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSetupInCMatchesGoV2: on a cgroup v2 host the C init's set-up
// (rootfs.Compile: the "cgroup" mount becomes cgroup2, in the cgroup
// namespace `rt spec` asks for) leaves the same
// mounts as the Go set-up child, which a mount with more propagation
// options than the C set-up reads selects.
// --debug (to --log) says which one ran.
func TestSetupInCMatchesGoV2(t *testing.T) {
	requireHost(t)
	script := `cut -d' ' -f4- /proc/self/mountinfo | sed 's/ - .*//'; stat -c '%n %a %u' /sys/fs/cgroup /tmp /dev /dev/null; ls /sys/fs/cgroup | grep -c .`
	run := func(id string, hook bool) (string, string) {
		s := baseSpec(t, "/rtvm/"+id, "sh", "-c", script)
		// Both get the same tmpfs; with more propagation options than
		// the C set-up reads (rootfs.CompileReason), the Go set-up.
		m := specs.Mount{Destination: "/mnt/go-setup", Type: "tmpfs", Source: "tmpfs"}
		for i := 0; hook && i < 17; i++ {
			m.Options = append(m.Options, "rprivate")
		}
		s.Mounts = append(s.Mounts, m)
		bundle := writeBundle(t, id, s)
		createdMu.Lock()
		created = append(created, id)
		createdMu.Unlock()
		log := filepath.Join(workDir, id+".log")
		out, code := rt("--debug", "--log", log, "run", "--bundle", bundle, id)
		if code != 0 {
			t.Fatalf("run %s: exit %d: %s", id, code, out)
		}
		text, _ := os.ReadFile(log)
		which := "none"
		switch {
		case strings.Contains(string(text), "set-up in C ("):
			which = "C"
		case strings.Contains(string(text), "set-up in Go: "):
			which = "Go"
		}
		return strings.ReplaceAll(out, id, "ID"), which
	}
	inC, which := run("setupc", false)
	if which != "C" {
		t.Fatalf("the default config ran the %s set-up, want C", which)
	}
	inGo, which := run("setupgo", true)
	if which != "Go" {
		t.Fatalf("with 17 propagation options the %s set-up ran, want Go", which)
	}
	t.Logf("C set-up:\n%s", inC)
	if inC != inGo {
		t.Errorf("the C and Go set-ups differ:\n--- C\n%s\n--- Go\n%s", inC, inGo)
	}
	if !strings.Contains(inC, " /sys/fs/cgroup ") {
		t.Errorf("no cgroup mount in the report:\n%s", inC)
	}
}
