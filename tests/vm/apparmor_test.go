package vm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const aaProfile = `abi <abi/3.0>,
#include <tunables/global>
profile rt-vm-test flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  audit deny /tmp/** wl,
}
`

// A container with process.apparmorProfile runs confined: its
// attr/current names the profile and the profile's deny rule bites.
func TestAppArmorProfile(t *testing.T) {
	requireHost(t)
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err != nil || strings.TrimSpace(string(b)) != "Y" {
		t.Skipf("AppArmor is not enabled in this kernel (%v)", err)
	}
	path := filepath.Join(workDir, "rt-vm-test.profile")
	if err := os.WriteFile(path, []byte(aaProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("apparmor_parser", "-r", "-K", path).CombinedOutput(); err != nil {
		t.Fatalf("apparmor_parser: %v: %s", err, out)
	}
	script := `echo "attr: $(cat /proc/self/attr/current)"; if echo x > /tmp/f 2>/dev/null; then echo tmp: allowed; else echo tmp: denied; fi; if echo x > /root/f; then echo root: allowed; fi`
	s := baseSpec(t, "/rtvm/aa", "sh", "-c", script)
	s.Process.ApparmorProfile = "rt-vm-test"
	out, code := runForeground(t, "aa", s)
	t.Logf("container output:\n%s", out)
	if code != 0 {
		t.Fatalf("rt run: exit %d", code)
	}
	for _, want := range []string{"attr: rt-vm-test (enforce)", "tmp: denied", "root: allowed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Control: without the profile the container is unconfined.
	s = baseSpec(t, "/rtvm/noaa", "sh", "-c", script)
	out, _ = runForeground(t, "noaa", s)
	if !strings.Contains(out, "attr: unconfined") || !strings.Contains(out, "tmp: allowed") {
		t.Errorf("control container: %q", out)
	}
}
