//go:build systemdvm

// Package systemd holds the tests of rt's systemd cgroup driver
// (--systemd-cgroup). They need systemd as PID 1 with the system bus and
// cgroup v2: run them with `make test-systemd`, which boots such a guest
// under qemu (tests/systemd/vm.sh) and runs them there. The build tag
// keeps them out of `go test ./tests/...` on hosts without systemd.
package systemd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Set by TestMain.
var (
	rtBinary string // the runtime under test
	rootfs   string // busybox rootfs shared by the bundles
	stateDir string // rt --root
	workDir  string // bundles and logs
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		fmt.Fprintln(os.Stderr, "tests/systemd: /sys/fs/cgroup is not cgroup2 (run via make test-systemd)")
		return 1
	}
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		fmt.Fprintln(os.Stderr, "tests/systemd: systemd is not PID 1 (run via make test-systemd)")
		return 1
	}
	rtBinary = os.Getenv("RT_BINARY")
	if rtBinary == "" {
		rtBinary, _ = exec.LookPath("rt")
	}
	rootfs = os.Getenv("RT_VM_ROOTFS")
	if rtBinary == "" || rootfs == "" {
		fmt.Fprintln(os.Stderr, "tests/systemd: set RT_BINARY and RT_VM_ROOTFS (a busybox rootfs)")
		return 1
	}
	var err error
	if workDir, err = os.MkdirTemp("", "rt-sd-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	stateDir = filepath.Join(workDir, "state")
	code := m.Run()
	cleanupContainers()
	return code
}
