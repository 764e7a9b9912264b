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

// missing names the prerequisite this host lacks (a pure cgroup v2 host,
// root, the binary and rootfs); empty when the tests can run. Each test
// then skips by name with the reason (requireHost), or, with
// RT_REQUIRE_ALL=1 (set by run.sh inside the VM), the run fails at once:
// the package never reports ok having run nothing.
var missing string

// requireHost skips t, naming what is missing, when the host cannot run
// these tests. Every test calls it first.
func requireHost(t *testing.T) {
	t.Helper()
	if missing != "" {
		t.Skip("SKIP: " + missing)
	}
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	rtBinary = os.Getenv("RT_BINARY")
	if rtBinary == "" {
		rtBinary, _ = exec.LookPath("rt")
	}
	rootfs = os.Getenv("RT_VM_ROOTFS")
	var st unix.Statfs_t
	switch {
	case unix.Statfs("/sys/fs/cgroup", &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC:
		missing = "needs a pure cgroup v2 host: /sys/fs/cgroup is not cgroup2 (run via make test-v2)"
	case os.Geteuid() != 0:
		missing = "needs root (euid 0)"
	case rtBinary == "" || rootfs == "":
		missing = "set RT_BINARY (or put rt in PATH) and RT_VM_ROOTFS (a busybox rootfs)"
	}
	if missing != "" {
		if os.Getenv("RT_REQUIRE_ALL") == "1" {
			fmt.Fprintln(os.Stderr, "FAIL: tests/vm: RT_REQUIRE_ALL=1 and "+missing)
			return 1
		}
		fmt.Println("SKIP: every test of tests/vm: " + missing)
		return m.Run()
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
