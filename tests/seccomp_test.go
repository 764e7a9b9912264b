package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

var (
	testBinMu    sync.Mutex
	testBinDir   string
	testBinaries = map[string]string{}
)

// goTestBinary builds tests/testdata/<name> as a static binary, once.
func goTestBinary(t *testing.T, name string) string {
	t.Helper()
	testBinMu.Lock()
	defer testBinMu.Unlock()
	if p, ok := testBinaries[name]; ok {
		return p
	}
	if testBinDir == "" {
		dir, err := os.MkdirTemp("", "rt-testbin-")
		if err != nil {
			t.Fatal(err)
		}
		testBinDir = dir
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go" // where the Makefile looks too
	}
	out := filepath.Join(testBinDir, name)
	cmd := exec.Command(goBin, "build", "-o", out, "./testdata/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/%s: %v: %s", name, err, msg)
	}
	testBinaries[name] = out
	return out
}

// copyBinary copies an executable into a rootfs.
func copyBinary(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSeccompENOSYSForNewerSyscalls: with a profile whose default is
// EPERM, a syscall newer than every syscall the profile names fails with
// ENOSYS (so that libc falls back), while an older one the profile does not
// allow still gets the profile's EPERM.
func TestSeccompENOSYSForNewerSyscalls(t *testing.T) {
	requireSuite(t)
	bin := goTestBinary(t, "sysnr")
	// Allow every x86_64 syscall numbered up to 400 except swapoff (168).
	var names []string
	for nr := 0; nr <= 400; nr++ {
		name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(libseccomp.ArchAMD64)
		if err != nil || name == "swapoff" {
			continue
		}
		names = append(names, name)
	}
	eperm := uint(1)
	b := newBundle(t, withArgs("/sysnr", "168", "460", "39"), func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction:   specs.ActErrno,
			DefaultErrnoRet: &eperm,
			Architectures:   []specs.Arch{specs.ArchX86_64},
			Syscalls:        []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}},
		}
	})
	copyBinary(t, bin, filepath.Join(b.Rootfs, "sysnr"))
	out := strings.TrimSpace(mustRunIn(t, b))
	want := "168 EPERM\n460 ENOSYS\n39 OK" // 39: getpid
	if out != want {
		t.Errorf("syscalls under an EPERM-default profile:\n%s\nwant\n%s", out, want)
	}
}
