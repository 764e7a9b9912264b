package apparmor

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestApplyEmptyIsNoop(t *testing.T) {
	if err := ApplyProfile(""); err != nil {
		t.Fatal(err)
	}
}

func TestApplyWhenDisabled(t *testing.T) {
	if IsEnabled() {
		t.Skip("AppArmor is enabled on this kernel; the disabled path cannot be tested")
	}
	err := ApplyProfile("rt-test-profile")
	if !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("want ErrNotEnabled, got %v", err)
	}
	if want := `apply apparmor profile "rt-test-profile": apparmor is not enabled on this system`; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

func TestWriteProcAttrRejectsNonProcfs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "exec")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeProcAttr(p, "exec x")
	if !errors.Is(err, ErrNotProcfs) {
		t.Fatalf("want ErrNotProcfs, got %v", err)
	}
	if b, _ := os.ReadFile(p); len(b) != 0 {
		t.Fatalf("nothing may be written to a non-procfs file, got %q", b)
	}
}

func TestCheckProcfsAcceptsProc(t *testing.T) {
	fd, err := unix.Open("/proc/self/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := checkProcfs(fd, "/proc/self/status"); err != nil {
		t.Fatal(err)
	}
}
