package rootfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// The root tests run PrepareMounts/PivotRoot/Finalize in a re-executed test
// binary that lives in its own mount namespace (clone(CLONE_NEWNS)), so the
// host's mounts are never touched. The child gets its scenario name and
// config through the environment, runs the scenario's checks from inside,
// and reports failures on stderr with a non-zero exit.

const (
	envScenario = "RT_ROOTFS_TEST_SCENARIO"
	envConfig   = "RT_ROOTFS_TEST_CONFIG"
)

// scenario is what a child runs: setup (usually the three phases), then
// checks from inside the container.
type scenario func(cfg *configs.Config) error

var scenarios = map[string]scenario{}

func TestMain(m *testing.M) {
	if name := os.Getenv(envScenario); name != "" {
		os.Exit(runChild(name))
	}
	os.Exit(m.Run())
}

func runChild(name string) int {
	var cfg configs.Config
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad config:", err)
		return 2
	}
	s, ok := scenarios[name]
	if !ok {
		fmt.Fprintln(os.Stderr, "child: unknown scenario", name)
		return 2
	}
	if err := s(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// requireRoot skips unless we can create mount namespaces.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) to create a mount namespace")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs a static /bin/busybox to build the test rootfs")
	}
}

// runScenario runs scenario name in a child in a new mount namespace (plus
// extra clone flags), and returns its combined output and error.
func runScenario(t *testing.T, name string, cfg *configs.Config, cloneflags uintptr, attr *syscall.SysProcAttr) (string, error) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envScenario+"="+name, envConfig+"="+string(b))
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.Cloneflags |= syscall.CLONE_NEWNS | cloneflags
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// mustRun runs a scenario that must succeed.
func mustRun(t *testing.T, name string, cfg *configs.Config) {
	t.Helper()
	out, err := runScenario(t, name, cfg, 0, nil)
	if err != nil {
		t.Fatalf("scenario %s: %v\n%s", name, err, out)
	}
}

// makeRootfs builds a minimal busybox rootfs in a temp dir.
func makeRootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/bin/busybox", filepath.Join(rootfs, "bin/busybox"), 0o755)
	for _, l := range []string{"sh", "ls", "cat", "mount", "touch"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(rootfs, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n")
	return rootfs
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setupAll runs the three phases.
func setupAll(cfg *configs.Config) error {
	if err := PrepareMounts(cfg); err != nil {
		return fmt.Errorf("PrepareMounts: %w", err)
	}
	if err := PivotRoot(cfg); err != nil {
		return fmt.Errorf("PivotRoot: %w", err)
	}
	if err := Finalize(cfg); err != nil {
		return fmt.Errorf("Finalize: %w", err)
	}
	return nil
}

// --- checks used inside the child ---

// mountAt returns the top mount at path, from the child's mountinfo.
func mountAt(path string) (*mountinfo.Info, error) {
	ms, err := mountinfo.GetMounts(func(i *mountinfo.Info) (bool, bool) { return i.Mountpoint != path, false })
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("nothing mounted on %q", path)
	}
	return ms[len(ms)-1], nil
}

func expectMount(path, fstype string, opts ...string) error {
	m, err := mountAt(path)
	if err != nil {
		return err
	}
	if fstype != "" && m.FSType != fstype {
		return fmt.Errorf("%s: fstype %q, want %q", path, m.FSType, fstype)
	}
	have := "," + m.Options + ","
	for _, o := range opts {
		if !strings.Contains(have, ","+o+",") {
			return fmt.Errorf("%s: options %q lack %q", path, m.Options, o)
		}
	}
	return nil
}

func expectEROFS(path string) error {
	err := os.WriteFile(path, []byte("x"), 0o644)
	if !errors.Is(err, unix.EROFS) {
		return fmt.Errorf("write %s: %v, want EROFS", path, err)
	}
	return nil
}

func expectCharDev(path string, major, minor uint32, perm uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != major || unix.Minor(st.Rdev) != minor {
		return fmt.Errorf("%s: mode %#o rdev %d:%d, want char %d:%d", path, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), major, minor)
	}
	if perm != 0 && st.Mode&0o777 != perm {
		return fmt.Errorf("%s: perm %#o, want %#o", path, st.Mode&0o777, perm)
	}
	return nil
}

func expectLink(path, target string) error {
	got, err := os.Readlink(path)
	if err != nil {
		return err
	}
	if got != target {
		return fmt.Errorf("%s -> %q, want %q", path, got, target)
	}
	return nil
}

// all returns the first error of the checks.
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

func all(errs ...error) error {
	return errors.Join(errs...)
}

// mountNS: the scenarios run in a mount namespace of their own, which the
// config says (without it PrepareMounts leaves "/" alone, as for a
// container that shares the host's mount namespace).
var mountNS = []configs.Namespace{{Type: "mount"}}
