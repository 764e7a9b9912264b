package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

var (
	sysnrOnce sync.Once
	sysnrBin  string
	sysnrErr  error
)

// sysnrBinary builds tests/testdata/sysnr static, once.
func sysnrBinary(t *testing.T) string {
	t.Helper()
	sysnrOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rt-sysnr-")
		if err != nil {
			sysnrErr = err
			return
		}
		sysnrBin = filepath.Join(dir, "sysnr")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(goBin, "build", "-o", sysnrBin, "./testdata/sysnr")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sysnrErr = err
			sysnrBin = string(out)
		}
	})
	if sysnrErr != nil {
		t.Fatalf("build sysnr: %v: %s", sysnrErr, sysnrBin)
	}
	return sysnrBin
}

// TestSeccompENOSYSForNewerSyscalls: with a profile whose default is
// EPERM, a syscall newer than every syscall the profile names fails with
// ENOSYS (so that libc falls back), while an older one the profile does not
// allow still gets the profile's EPERM.
func TestSeccompENOSYSForNewerSyscalls(t *testing.T) {
	bin := sysnrBinary(t)
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
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs, "sysnr"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSpace(mustRunIn(t, b))
	want := "168 EPERM\n460 ENOSYS\n39 OK" // 39: getpid
	if out != want {
		t.Errorf("syscalls under an EPERM-default profile:\n%s\nwant\n%s", out, want)
	}
}
