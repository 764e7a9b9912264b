package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// OpenProcWrite against the attack of CVE-2025-52881: a procfs file
// mounted over the sysctl rt writes (here /proc/self/oom_score_adj over
// /proc/sys/kernel/domainname) passes a "the file is on procfs" check and
// takes the write. The child, in a mount namespace of its own whose mounts
// are private, mounts it and must get ErrProcOvermounted, while a sysctl
// with nothing over it opens; then, with a procfs directory bind-mounted
// over /proc itself, ErrProcNotProcRoot.
func init() {
	scenarios["procwrite"] = func(*configs.Config) error {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make / private: %w", err)
		}
		if err := unix.Mount("/proc/self/oom_score_adj", "/proc/sys/kernel/domainname", "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mount over /proc/sys/kernel/domainname: %w", err)
		}
		before, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			return err
		}
		f, err := OpenProcWrite("sys/kernel/domainname")
		if err == nil {
			f.WriteString("7")
			f.Close()
			after, _ := os.ReadFile("/proc/self/oom_score_adj")
			return fmt.Errorf("opened the overmounted sysctl for writing (oom_score_adj %q -> %q)", strings.TrimSpace(string(before)), strings.TrimSpace(string(after)))
		}
		if !errors.Is(err, ErrProcOvermounted) || err.Error() != "/proc/sys/kernel/domainname: "+ErrProcOvermounted.Error() {
			return fmt.Errorf("overmounted sysctl: error %v, want ErrProcOvermounted", err)
		}
		// The same path with nothing mounted on it opens (and is not
		// written: the child shares the host's UTS namespace).
		f, err = OpenProcWrite("sys/kernel/hostname")
		if err != nil {
			return fmt.Errorf("sysctl with nothing over it: %w", err)
		}
		f.Close()
		if _, err := OpenProcWrite("sys/kernel/no-such-sysctl"); !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("missing sysctl: error %v, want ENOENT", err)
		}
		if err := unix.Mount("/proc/sys", "/proc", "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mount /proc/sys over /proc: %w", err)
		}
		if _, err := OpenProcWrite("kernel/hostname"); !errors.Is(err, ErrProcNotProcRoot) {
			return fmt.Errorf("/proc a procfs subdirectory: error %v, want ErrProcNotProcRoot", err)
		}
		return nil
	}
}

func TestOpenProcWriteRefusesOvermount(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) to create a mount namespace")
	}
	if out, err := runScenario(t, "procwrite", &configs.Config{}, 0, nil); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
