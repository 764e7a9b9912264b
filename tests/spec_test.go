package tests

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func runSpec(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(rtBinary, append([]string{"spec"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("spec: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func readSpec(t *testing.T, path string) specs.Spec {
	t.Helper()
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, path)), &s); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return s
}

func TestSpecDefault(t *testing.T) {
	dir := t.TempDir()
	if out, code := runSpec(t, dir); code != 0 {
		t.Fatalf("spec: exit %d: %s", code, out)
	}
	s := readSpec(t, filepath.Join(dir, "config.json"))
	if !regexp.MustCompile(`^1\.\d+\.\d+`).MatchString(s.Version) {
		t.Errorf("ociVersion %q is not a 1.x semver", s.Version)
	}
	if s.Process == nil || len(s.Process.Args) != 1 || s.Process.Args[0] != "sh" {
		t.Fatalf("process.args = %v, want [sh]", s.Process)
	}
	if s.Root == nil || s.Root.Path != "rootfs" {
		t.Errorf("root = %+v, want path rootfs", s.Root)
	}
	if s.Linux == nil {
		t.Fatal("no linux section")
	}
	got := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range s.Linux.Namespaces {
		got[ns.Type] = true
	}
	for _, want := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
		if !got[want] {
			t.Errorf("default namespaces %v lack %s", s.Linux.Namespaces, want)
		}
	}
	if got[specs.UserNamespace] {
		t.Errorf("default spec has a user namespace")
	}
	dests := map[string]string{}
	for _, m := range s.Mounts {
		dests[m.Destination] = m.Type
	}
	for dst, ty := range map[string]string{"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts", "/sys": "sysfs"} {
		if dests[dst] != ty {
			t.Errorf("mount %s: type %q, want %q (mounts %v)", dst, dests[dst], ty, dests)
		}
	}
	if !contains(s.Linux.MaskedPaths, "/proc/kcore") {
		t.Errorf("maskedPaths %v lack /proc/kcore", s.Linux.MaskedPaths)
	}
	if !contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("readonlyPaths %v lack /proc/sys", s.Linux.ReadonlyPaths)
	}
	if s.Process.Capabilities == nil || !contains(s.Process.Capabilities.Bounding, "CAP_KILL") {
		t.Errorf("default bounding caps lack CAP_KILL: %+v", s.Process.Capabilities)
	}
}

func TestSpecRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runSpec(t, dir)
	if code == 0 {
		t.Fatalf("spec over an existing config.json succeeded: %s", out)
	}
	mustContain(t, "spec error", out, "File config.json exists. Remove it first")
	if got := readFile(t, path); got != "keep me" {
		t.Errorf("config.json was modified: %q", got)
	}
}

func TestSpecBundleFlag(t *testing.T) {
	dir := t.TempDir()
	if out, code := runSpec(t, t.TempDir(), "--bundle", dir); code != 0 {
		t.Fatalf("spec --bundle: exit %d: %s", code, out)
	}
	readSpec(t, filepath.Join(dir, "config.json"))
}

func TestSpecRootless(t *testing.T) {
	dir := t.TempDir()
	if out, code := runSpec(t, dir, "--rootless"); code != 0 {
		t.Fatalf("spec --rootless: exit %d: %s", code, out)
	}
	s := readSpec(t, filepath.Join(dir, "config.json"))
	hasUser := false
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			hasUser = true
		}
		if ns.Type == specs.NetworkNamespace {
			t.Errorf("rootless spec has a network namespace")
		}
	}
	if !hasUser {
		t.Errorf("rootless spec lacks a user namespace: %v", s.Linux.Namespaces)
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0].HostID != uint32(os.Geteuid()) || s.Linux.UIDMappings[0].Size != 1 {
		t.Errorf("rootless uidMappings %+v, want one of size 1 for host uid %d", s.Linux.UIDMappings, os.Geteuid())
	}
	if len(s.Linux.GIDMappings) != 1 {
		t.Errorf("rootless gidMappings %+v", s.Linux.GIDMappings)
	}
	if s.Linux.Resources != nil && len(s.Linux.Resources.Devices) > 0 {
		t.Errorf("rootless spec has device cgroup rules: %+v", s.Linux.Resources.Devices)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys" && (m.Type != "none" || !contains(m.Options, "rbind")) {
			t.Errorf("rootless /sys mount should be an rbind, got %+v", m)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		out, err := exec.Command(rtBinary, flag).Output()
		if err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if !regexp.MustCompile(`^\S+ version \S+`).MatchString(lines[0]) {
			t.Errorf("%s first line %q, want `<name> version X`", flag, lines[0])
		}
		want := []string{"commit:", "spec:", "go:"}
		for _, w := range want {
			found := false
			for _, l := range lines[1:] {
				if strings.HasPrefix(l, w+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s output lacks a %q line:\n%s", flag, w, out)
			}
		}
		if !regexp.MustCompile(`(?m)^spec: \d+\.\d+\.\d+`).Match(out) {
			t.Errorf("%s: spec line is not a version: %s", flag, out)
		}
	}
}
