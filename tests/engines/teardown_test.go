package engines

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// teardown removes everything the environment started or created, even after
// failed tests: CRI pods and ctr tasks (through the APIs while containerd is
// up), containerd itself, any process still carrying the temp dir on its
// command line (shims), processes left in this run's cgroups, the cgroups,
// mounts under the temp dir, leftover shim sockets and the temp dir. The
// returned error lists what could not be removed.
func (e *engineEnv) teardown() error {
	var errs []error
	if e.cmd != nil && e.cmd.Process != nil {
		if !e.hasExited() {
			e.removeCRIPods()
			e.removeCtrContainers()
		}
		e.closing.Store(true)
		if err := e.stopContainerd(); err != nil {
			errs = append(errs, err)
		}
	}
	if n := killByCmdline(e.dir + "/"); n > 0 {
		fmt.Fprintf(os.Stderr, "engines teardown: killed %d leftover processes started under %s\n", n, e.dir)
	}
	e.closing.Store(true)
	killByCmdline(e.dir + "/") // anything a still-running test started meanwhile
	for _, name := range []string{e.cgParent, e.ctrNS} {
		if err := removeCgroup(name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountUnder(e.dir + "/"); err != nil {
		errs = append(errs, err)
	}
	e.idsMu.Lock()
	for id, ns := range e.ids {
		os.Remove(e.shimSocket(ns, id))
	}
	for _, p := range e.netns {
		if _, err := os.Stat(p); err == nil {
			unix.Unmount(p, unix.MNT_DETACH)
			if err := os.Remove(p); err != nil {
				errs = append(errs, fmt.Errorf("remove pod netns %s: %w", p, err))
			}
		}
	}
	e.idsMu.Unlock()
	if err := deleteLink(e.bridge); err != nil {
		errs = append(errs, err)
	}
	if os.Getenv("KEEP_TMP") == "1" {
		fmt.Fprintf(os.Stderr, "engines teardown: kept %s (KEEP_TMP=1)\n", e.dir)
	} else if len(mountsUnder(e.dir+"/")) == 0 {
		if err := os.RemoveAll(e.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", e.dir, err))
		}
	} else {
		errs = append(errs, fmt.Errorf("kept %s: mounts remain below it", e.dir))
	}
	return errors.Join(errs...)
}

func (e *engineEnv) hasExited() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// removeCtrContainers kills and deletes whatever the ctr tests left behind.
func (e *engineEnv) removeCtrContainers() {
	out, _, err := e.ctr(20*time.Second, e.ctrNS, "containers", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		e.ctr(20*time.Second, e.ctrNS, "tasks", "resume", id)
		e.ctr(20*time.Second, e.ctrNS, "tasks", "kill", "-s", "SIGKILL", id)
		time.Sleep(300 * time.Millisecond)
		e.ctr(20*time.Second, e.ctrNS, "tasks", "delete", "-f", id)
		e.ctr(20*time.Second, e.ctrNS, "containers", "delete", id)
	}
}

// stopContainerd sends SIGTERM and, after 10s, SIGKILL.
func (e *engineEnv) stopContainerd() error {
	if e.hasExited() {
		return nil
	}
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	e.cmd.Process.Kill()
	select {
	case <-e.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("containerd pid %d did not exit after SIGKILL", e.cmd.Process.Pid)
	}
}

// deleteLink removes network interface name if it exists.
func deleteLink(name string) error {
	if _, err := os.Stat(filepath.Join("/sys/class/net", name)); err != nil {
		return nil
	}
	if out, err := exec.Command("ip", "link", "delete", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip link delete %s: %w: %s", name, err, out)
	}
	return nil
}

// killByCmdline SIGKILLs every process whose command line contains s (a
// path unique to this run) and returns how many it killed.
func killByCmdline(s string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	self := os.Getpid()
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	if n > 0 {
		time.Sleep(300 * time.Millisecond)
	}
	return n
}

// cgroupDirs returns name below every cgroup hierarchy mounted under
// /sys/fs/cgroup (v1 controllers, the v2 unified tree, or a pure v2 root).
func cgroupDirs(name string) []string {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))
	return append(dirs, filepath.Join("/sys/fs/cgroup", name))
}

func isCgroupFS(path string) bool {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return false
	}
	return st.Type == unix.CGROUP_SUPER_MAGIC || st.Type == unix.CGROUP2_SUPER_MAGIC
}

// removeCgroup thaws and kills any process left in cgroup name (unique to
// this run) in every hierarchy, then removes its directories bottom-up.
func removeCgroup(name string) error {
	killed := map[int]bool{}
	for _, dir := range cgroupDirs(name) {
		if !isCgroupFS(dir) {
			continue
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			switch d.Name() {
			case "freezer.state":
				os.WriteFile(p, []byte("THAWED"), 0)
			case "cgroup.freeze":
				os.WriteFile(p, []byte("0"), 0)
			case "cgroup.procs":
				b, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil && !killed[pid] && syscall.Kill(pid, syscall.SIGKILL) == nil {
						killed[pid] = true
					}
				}
			}
			return nil
		})
	}
	if len(killed) > 0 {
		fmt.Fprintf(os.Stderr, "engines teardown: killed %d processes left in cgroup %s\n", len(killed), name)
		time.Sleep(500 * time.Millisecond)
	}
	var errs []error
	for _, dir := range cgroupDirs(name) {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if !isCgroupFS(dir) {
			// a plain directory on the /sys/fs/cgroup tmpfs: not a cgroup
			os.RemoveAll(dir)
			continue
		}
		var sub []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				sub = append(sub, p)
			}
			return nil
		})
		for i := len(sub) - 1; i >= 0; i-- {
			if err := rmdirRetry(sub[i]); err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", sub[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirRetry removes an (emptied) cgroup; the kernel may report EBUSY for a
// moment after its last process died.
func rmdirRetry(p string) error {
	var err error
	for i := 0; i < 20; i++ {
		if err = syscall.Rmdir(p); err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// mountsUnder lists mount points below prefix, deepest first.
func mountsUnder(prefix string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], prefix) {
			mps = append(mps, fields[4])
		}
	}
	for i, j := 0, len(mps)-1; i < j; i, j = i+1, j-1 {
		mps[i], mps[j] = mps[j], mps[i]
	}
	return mps
}

// unmountUnder lazily unmounts everything below prefix.
func unmountUnder(prefix string) error {
	var errs []error
	for _, mp := range mountsUnder(prefix) {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}
