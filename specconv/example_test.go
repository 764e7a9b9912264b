package specconv

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// runcExample is `runc spec` from runc 1.1.5 (Debian 12), with the three
// intended differences applied: ociVersion is specs.Version, the hostname is
// ExampleHostname, and the ambient capability set is gone (runc dropped it
// after 1.1.5; CVE-2022-29162 already removed the inheritable set).
const runcExample = `{
	"ociVersion": "1.3.0",
	"process": {
		"terminal": true,
		"user": {"uid": 0, "gid": 0},
		"args": ["sh"],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"root": {"path": "rootfs", "readonly": true},
	"hostname": "rt",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
		 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		 "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		 "options": ["nosuid", "noexec", "nodev"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs",
		 "options": ["nosuid", "noexec", "nodev", "ro"]},
		{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
		 "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
	],
	"linux": {
		"resources": {"devices": [{"allow": false, "access": "rwm"}]},
		"namespaces": [
			{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
		],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
		],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}`

// expectedRootless is runcExample with the changes `runc spec --rootless`
// makes, mapping the test's effective uid and gid.
func expectedRootless(t *testing.T) map[string]any {
	exp := decode(t, []byte(runcExample))
	linux := exp["linux"].(map[string]any)
	delete(linux, "resources")
	mapping := func(id int) []any {
		return []any{map[string]any{"containerID": 0.0, "hostID": float64(id), "size": 1.0}}
	}
	linux["uidMappings"] = mapping(os.Geteuid())
	linux["gidMappings"] = mapping(os.Getegid())
	var ns []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "network" {
			ns = append(ns, n)
		}
	}
	linux["namespaces"] = append(ns, map[string]any{"type": "user"})
	mounts := exp["mounts"].([]any)
	for _, m := range mounts {
		mm := m.(map[string]any)
		switch mm["destination"] {
		case "/dev/pts":
			mm["options"] = []any{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
		case "/sys":
			mm["type"] = "none"
			mm["source"] = "/sys"
			mm["options"] = []any{"rbind", "nosuid", "noexec", "nodev", "ro"}
		}
	}
	return exp
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return m
}

func toMap(t *testing.T, s *specs.Spec) map[string]any {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, data)
}

// withCgroupNS adds the cgroup namespace the way Example does on cgroup v2.
func withCgroupNS(m map[string]any) map[string]any {
	if cgroup2Unified() {
		linux := m["linux"].(map[string]any)
		linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "cgroup"})
	}
	return m
}

func assertJSONEqual(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("spec differs\ngot:\n%s\nwant:\n%s", g, w)
	}
}

func TestExampleMatchesRunc(t *testing.T) {
	assertJSONEqual(t, toMap(t, Example()), withCgroupNS(decode(t, []byte(runcExample))))
}

func TestExampleFields(t *testing.T) {
	s := Example()
	if s.Version != specs.Version || s.Version != "1.3.0" {
		t.Errorf("ociVersion = %q", s.Version)
	}
	c := s.Process.Capabilities
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable/ambient caps must be empty: %v %v", c.Inheritable, c.Ambient)
	}
	// Each call returns an independent value.
	s.Process.Capabilities.Bounding[0] = "CHANGED"
	if Example().Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" {
		t.Error("Example shares slices between calls")
	}
}

func TestToRootlessMatchesRunc(t *testing.T) {
	s := Example()
	ToRootless(s)
	assertJSONEqual(t, toMap(t, s), withCgroupNS(expectedRootless(t)))
}

func TestToRootlessExistingUserNSAndUIDOption(t *testing.T) {
	s := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/sys/", Type: "sysfs", Source: "sysfs"},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=1", "mode=700", "gid=2"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.UserNamespace, Path: "/proc/1/ns/user"}, {Type: specs.PIDNamespace}},
		},
	}
	ToRootless(s)
	if got := s.Linux.Namespaces; len(got) != 2 || got[0].Type != specs.PIDNamespace || got[1] != (specs.LinuxNamespace{Type: specs.UserNamespace}) {
		t.Errorf("namespaces = %+v", got)
	}
	if s.Mounts[0].Source != "/sys" || s.Mounts[0].Type != "none" {
		t.Errorf("/sys/ not replaced: %+v", s.Mounts[0])
	}
	if !reflect.DeepEqual(s.Mounts[1].Options, []string{"mode=700"}) {
		t.Errorf("tmpfs options = %v", s.Mounts[1].Options)
	}
}

// TestAgainstInstalledRunc compares with the installed runc 1.1.x when there
// is one, after undoing the documented differences. Other runc versions
// differ in more ways (ambient capabilities, masked paths), so they are skipped.
func TestAgainstInstalledRunc(t *testing.T) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc not installed: nothing to compare with")
	}
	if out, err := exec.Command(runc, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "runc version 1.1.") {
		t.Skipf("installed runc is not 1.1.x (%q, %v): its example spec differs in more ways", out, err)
	}
	for _, rootless := range []bool{false, true} {
		t.Run("rootless="+strconv.FormatBool(rootless), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"spec", "--bundle", dir}
			if rootless {
				args = append(args, "--rootless")
			}
			if out, err := exec.Command(runc, args...).CombinedOutput(); err != nil {
				t.Fatalf("runc spec: %v: %s", err, out)
			}
			data, err := os.ReadFile(dir + "/config.json")
			if err != nil {
				t.Fatal(err)
			}
			want := decode(t, data)
			want["ociVersion"] = specs.Version
			want["hostname"] = ExampleHostname
			delete(want["process"].(map[string]any)["capabilities"].(map[string]any), "ambient")
			s := Example()
			if rootless {
				ToRootless(s)
			}
			assertJSONEqual(t, toMap(t, s), want)
		})
	}
}
