package vm

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

const skipReason = "needs a cgroup v2 host (run via make test-v2)"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		fmt.Println("SKIP: tests/vm " + skipReason)
		return 0
	}
	if os.Geteuid() != 0 {
		fmt.Println("SKIP: tests/vm needs root (euid 0)")
		return 0
	}
	rtBinary = os.Getenv("RT_BINARY")
	if rtBinary == "" {
		rtBinary, _ = exec.LookPath("rt")
	}
	rootfs = os.Getenv("RT_VM_ROOTFS")
	if rtBinary == "" || rootfs == "" {
		fmt.Fprintln(os.Stderr, "tests/vm: set RT_BINARY (or put rt in PATH) and RT_VM_ROOTFS (a busybox rootfs)")
		return 1
	}
	var err error
	if workDir, err = os.MkdirTemp("", "rt-vm-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	stateDir = filepath.Join(workDir, "state")
	code := m.Run()
	cleanupContainers()
	return code
}
