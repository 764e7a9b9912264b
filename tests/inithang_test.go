package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hungFuse mounts a FUSE file system whose server never answers: the
// first access below it blocks (killably) until the connection goes away,
// as on a hung network file system. It returns the mount point; the
// connection is aborted and the mount detached at the end of the test (or
// by calling the returned func, which may be called more than once).
func hungFuse(t *testing.T) (string, func()) {
	t.Helper()
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("SKIP: no FUSE (/dev/fuse: %v)", err)
	}
	dir, err := os.MkdirTemp("", "rt-hungfuse-")
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", fd)
	if err := unix.Mount("rt-test-hung", dir, "fuse", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		unix.Close(fd)
		os.Remove(dir)
		t.Skipf("SKIP: the kernel refuses a FUSE mount: %v", err)
	}
	done := false
	release := func() {
		if done {
			return
		}
		done = true
		unix.Close(fd) // aborts the connection: blocked accesses fail
		unix.Unmount(dir, unix.MNT_DETACH)
		os.Remove(dir)
	}
	t.Cleanup(release)
	return dir, release
}

// TestCreateInitStuckInKernelBounded: a bind mount whose source is on a
// hung file system leaves the container's init blocked in mount(2),
// neither frozen nor stopped. rt create must not wait for it for ever:
// after RT_INIT_TIMEOUT without a message from the init it kills it and
// fails, naming the wait, and leaves nothing (state dir, cgroups,
// processes). runc waits for ever.
func TestCreateInitStuckInKernelBounded(t *testing.T) {
	requireSuite(t)
	hung, release := hungFuse(t)
	t.Setenv("RT_INIT_TIMEOUT", "2s")
	cgName := fmt.Sprintf("rt-inithang-%d", os.Getpid())
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.CgroupsPath = "/" + cgName
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind",
			Source: filepath.Join(hung, "dir"), Options: []string{"bind"}})
	})
	b.write(t)
	id := newID(t)
	start := time.Now()
	done := rtAsync(t, "create", "--bundle", b.Dir, id)
	// While rt waits, the init is stuck in its cgroup: the control that
	// the clean-up checked below has something to remove.
	pids := filepath.Join("/sys/fs/cgroup/pids", cgName, "cgroup.procs")
	if !pollUntil(1500*time.Millisecond, func() bool { data, _ := os.ReadFile(pids); return len(data) > 0 }) {
		t.Errorf("no process in %s while create waits: the init is not stuck where the test wants it", pids)
	}
	var r rtResult
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		release() // unblocks the init (and rt)
		<-done
		t.Fatal("rt create still waited for the stuck init after 60s (RT_INIT_TIMEOUT=2s)")
	}
	took := time.Since(start)
	release()
	if r.code == 0 {
		t.Fatalf("create of a container whose init is stuck succeeded (after %v)", took)
	}
	mustContain(t, "create's error", r.errOut, "init process sent nothing for 2s")
	t.Logf("create failed after %v: %s", took, strings.TrimSpace(r.errOut))
	assertNoState(t, id)
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range ents {
		// (a live init would keep its cgroup from being removed)
		if d := filepath.Join("/sys/fs/cgroup", e.Name(), cgName); pathExists(d) {
			t.Errorf("cgroup %s left", d)
			killAndRemoveCgroup(d)
		}
	}
}

func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// RT_INIT_TIMEOUT must be a positive duration.
func TestInitTimeoutEnvRefused(t *testing.T) {
	t.Setenv("RT_INIT_TIMEOUT", "soon")
	_, se, code := rt(t, "list")
	if code == 0 {
		t.Fatal("rt accepted RT_INIT_TIMEOUT=soon")
	}
	mustContain(t, "stderr", se, `RT_INIT_TIMEOUT="soon"`)
}
