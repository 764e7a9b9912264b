package plantest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const envProcOpenChild = "RT_PLANTEST_PROCOPEN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envProcOpenChild) == "1" {
		if err := procOpenChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// procOpenChild runs in a mount namespace of its own (private mounts).
// Against CVE-2025-52881: a procfs file (/proc/sys/kernel/domainname)
// mounted over the thread's own AppArmor exec attribute would take the
// C stage's write as root; proc_open_write must refuse it (EXDEV). Then a
// procfs directory bind-mounted over /proc itself (ENOTDIR).
func procOpenChild() error {
	runtime.LockOSThread()
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	attr := "attr/exec"
	if _, err := os.Stat("/proc/thread-self/attr/apparmor/exec"); err == nil {
		attr = "attr/apparmor/exec"
	}
	if err := ProcOpenWrite("thread-self/" + attr); err != nil {
		return fmt.Errorf("the attribute with nothing over it: %w", err)
	}
	target := fmt.Sprintf("/proc/%d/task/%d/%s", os.Getpid(), unix.Gettid(), attr)
	if err := unix.Mount("/proc/sys/kernel/domainname", target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mount over %s: %w", target, err)
	}
	if err := ProcOpenWrite("thread-self/" + attr); !errors.Is(err, unix.EXDEV) {
		return fmt.Errorf("overmounted %s: error %v, want EXDEV", target, err)
	}
	if err := unix.Mount("/proc/sys", "/proc", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mount /proc/sys over /proc: %w", err)
	}
	if err := ProcOpenWrite("kernel/domainname"); !errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("/proc a procfs subdirectory: error %v, want ENOTDIR", err)
	}
	return nil
}

func TestProcOpenWriteRefusesOvermount(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) to create a mount namespace")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envProcOpenChild+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
