package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Suite-wide settings, filled in by TestMain.
var (
	rtBinary     string // absolute path of the runtime under test
	templateRoot string // cached busybox rootfs, copied per bundle
	specTemplate []byte // output of `<binary> spec`, parsed per bundle
	idCounter    atomic.Int64
)

// cmdTimeout bounds every runtime invocation so a hung runtime fails the
// test instead of the whole suite.
const cmdTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// missing names the prerequisite of the whole suite that this host lacks
// (root, the binary); empty when the suite can run. Each test then skips
// by name with this reason (requireSuite), or, with RT_REQUIRE_ALL=1 (CI,
// make integration), the run fails at once: the suite never reports ok
// having run nothing.
var missing string

// requireSuite skips t, naming what is missing, when the suite cannot run
// on this host. Every helper that touches the runtime calls it (ctxFor).
func requireSuite(t testing.TB) {
	t.Helper()
	if missing != "" {
		t.Skip("SKIP: " + missing)
	}
}

func runMain(m *testing.M) int {
	bin, err := findBinary()
	rtBinary = bin
	switch {
	case err != nil:
		missing = err.Error()
	case os.Geteuid() != 0:
		missing = "integration tests need root (euid 0) to create namespaces, mounts and cgroups"
	}
	if missing != "" {
		if os.Getenv("RT_REQUIRE_ALL") == "1" {
			fmt.Fprintln(os.Stderr, "FAIL: RT_REQUIRE_ALL=1 and "+missing)
			return 1
		}
		fmt.Println("SKIP: every test: " + missing)
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "rt-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	templateRoot = filepath.Join(tmp, "rootfs")
	if err := buildTemplateRootfs(templateRoot); err != nil {
		fmt.Fprintln(os.Stderr, "build template rootfs:", err)
		return 1
	}
	specDir := filepath.Join(tmp, "spec")
	if err := os.Mkdir(specDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command(rtBinary, "spec")
	cmd.Dir = specDir
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "%s spec: %v: %s\n", rtBinary, err, out)
		return 1
	}
	specTemplate, err = os.ReadFile(filepath.Join(specDir, "config.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "read spec output:", err)
		return 1
	}
	fmt.Printf("runtime under test: %s\n", rtBinary)
	return m.Run()
}

// findBinary resolves RT_BINARY, defaulting to <repo>/bin/rt relative to
// this package directory (go test runs with the package dir as cwd).
func findBinary() (string, error) {
	bin := os.Getenv("RT_BINARY")
	if bin == "" {
		bin = filepath.Join("..", "bin", "rt")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("resolve runtime binary %q: %w", bin, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("runtime binary %q not found (run `make build` or set RT_BINARY): %w", abs, err)
	}
	if st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("runtime binary %q is not executable", abs)
	}
	return abs, nil
}

// buildTemplateRootfs makes a minimal busybox rootfs at dir.
func buildTemplateRootfs(dir string) error {
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := copyFile("/bin/busybox", filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return fmt.Errorf("copy host busybox (install busybox-static): %w", err)
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// ---------------------------------------------------------------------------
// Per-test runtime context: a private --root and the list of created ids.

type rtCtx struct {
	t       testing.TB
	root    string
	mu      sync.Mutex
	ids     []string
	bundles []string
	pids    map[int]bool
	cgroups map[string]bool // absolute cgroup dirs seen for containers
	done    bool
}

var ctxs sync.Map // testing.TB -> *rtCtx

func ctxFor(t testing.TB) *rtCtx {
	t.Helper()
	requireSuite(t)
	if c, ok := ctxs.Load(t); ok {
		return c.(*rtCtx)
	}
	c := &rtCtx{t: t, root: t.TempDir(), pids: map[int]bool{}, cgroups: map[string]bool{}}
	ctxs.Store(t, c)
	t.Cleanup(func() { c.cleanup(); ctxs.Delete(t) })
	return c
}

// newID returns a container id unique to this test and process, and
// registers it for deletion at cleanup.
func newID(t testing.TB) string {
	c := ctxFor(t)
	h := sha256.Sum256([]byte(t.Name()))
	id := fmt.Sprintf("t-%s-%d-%d", hex.EncodeToString(h[:])[:8], os.Getpid(), idCounter.Add(1))
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
	return id
}

// cleanup force-deletes every container of the test and checks that no
// state dir, cgroup dir, mount or process is left behind.
func (c *rtCtx) cleanup() {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	ids := append([]string(nil), c.ids...)
	c.mu.Unlock()
	t := c.t
	if ents, err := os.ReadDir(c.root); err == nil {
		for _, e := range ents {
			if !contains(ids, e.Name()) {
				ids = append(ids, e.Name())
			}
		}
	}
	for _, id := range ids {
		runRaw(c.root, nil, "delete", "--force", id)
	}
	if ents, err := os.ReadDir(c.root); err == nil {
		var names []string
		for _, e := range ents {
			// The root's cache of compiled seccomp profiles is rt's own
			// (docs/design.md), not a container's.
			if !strings.HasPrefix(e.Name(), ".seccomp@") {
				names = append(names, e.Name())
			}
		}
		if len(names) > 0 {
			t.Errorf("cleanup: state dirs left in %s after delete --force: %v", c.root, names)
		}
	}
	for pid := range c.pids {
		if !waitGone(pid, 5*time.Second) {
			t.Errorf("cleanup: container process %d still alive after delete --force", pid)
		}
	}
	for dir := range c.cgroups {
		if !pollUntil(5*time.Second, func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) }) {
			t.Errorf("cleanup: cgroup dir %s left after delete", dir)
			_ = os.Remove(dir)
		}
	}
	for _, id := range ids {
		c.reapCgroupsNamed(id)
	}
	for _, b := range c.bundles {
		if left := mountsUnder(b); len(left) > 0 {
			t.Errorf("cleanup: mounts left under bundle %s: %v", b, left)
			for i := len(left) - 1; i >= 0; i-- {
				_ = syscall.Unmount(left[i], syscall.MNT_DETACH)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// processGone reports whether pid no longer exists (or is only a zombie).
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func waitGone(pid int, d time.Duration) bool {
	return pollUntil(d, func() bool { return processGone(pid) })
}

// pollUntil calls f every few ms until it returns true or d elapses.
func pollUntil(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mountsUnder lists mount points in this mount namespace under dir.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Running the runtime.

type result struct {
	stdout, stderr string
	code           int
}

func runRaw(root string, stdin []byte, args ...string) result {
	return runCmd(append([]string{"--root", root}, args...), stdin)
}

// runCmd runs the runtime with args. Output goes to temp files, not pipes:
// a created or detached container inherits stdio and may hold it open
// long after the runtime has exited.
func runCmd(args []string, stdin []byte) result {
	return runCmdOut(args, stdin, "")
}

// runCmdOut is runCmd with stdout sent to stdoutPath (when not empty), so
// that a detached container's output can be read later.
func runCmdOut(args []string, stdin []byte, stdoutPath string) result {
	return runBinary(rtBinary, args, stdin, stdoutPath, nil)
}

// runBinary runs bin with args; extra files become fds 3, 4, ...
func runBinary(bin string, args []string, stdin []byte, stdoutPath string, extraFiles []*os.File) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.ExtraFiles = extraFiles
	var so *os.File
	var err error
	if stdoutPath != "" {
		so, err = os.OpenFile(stdoutPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	} else {
		so, err = os.CreateTemp("", "rt-stdout-")
		if err == nil {
			defer os.Remove(so.Name())
		}
	}
	if err != nil {
		return result{"", err.Error(), -1}
	}
	defer so.Close()
	se, err := os.CreateTemp("", "rt-stderr-")
	if err != nil {
		return result{"", err.Error(), -1}
	}
	defer os.Remove(se.Name())
	defer se.Close()
	cmd.Stdout, cmd.Stderr = so, se
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	code := 0
	var extra string
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		} else {
			code = -1
			extra = "\n[test harness] " + err.Error()
		}
		if ctx.Err() != nil {
			extra += "\n[test harness] timed out after " + cmdTimeout.String()
		}
	}
	outData, _ := os.ReadFile(so.Name())
	errData, _ := os.ReadFile(se.Name())
	return result{string(outData), string(errData) + extra, code}
}

// rt runs the runtime with this test's --root and returns stdout, stderr
// and the exit code.
func rt(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	r := runRaw(ctxFor(t).root, nil, args...)
	return r.stdout, r.stderr, r.code
}

// mustRT runs the runtime and fails the test on a non-zero exit.
func mustRT(t testing.TB, args ...string) string {
	t.Helper()
	so, se, code := rt(t, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(rtBinary), strings.Join(args, " "), code, so, se)
	}
	return so
}

// ---------------------------------------------------------------------------
// Bundles.

type bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
}

type bundleOpt func(*specs.Spec)

func withArgs(args ...string) bundleOpt {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// newBundle makes a bundle with a fresh copy of the busybox rootfs and a
// config.json derived from `<binary> spec` with terminal off, then applies
// opts and writes config.json.
func newBundle(t testing.TB, opts ...bundleOpt) *bundle {
	t.Helper()
	c := ctxFor(t)
	dir := t.TempDir()
	// Registered after TempDir so it runs before the bundle is removed.
	t.Cleanup(c.cleanup)
	c.mu.Lock()
	c.bundles = append(c.bundles, dir)
	c.mu.Unlock()
	rootfs := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", templateRoot, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	var s specs.Spec
	if err := json.Unmarshal(specTemplate, &s); err != nil {
		t.Fatalf("parse spec template: %v", err)
	}
	s.Process.Terminal = false
	s.Root = &specs.Root{Path: "rootfs"}
	s.Hostname = "rt-test"
	for _, o := range opts {
		o(&s)
	}
	b := &bundle{Dir: dir, Rootfs: rootfs, Spec: &s}
	b.write(t)
	return b
}

func (b *bundle) write(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		t.Fatalf("marshal config: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatalf("write config.json: %v", err)
	}
}

// runIn runs a container to completion in the foreground and returns its
// output and exit code.
func runIn(t testing.TB, b *bundle) (string, string, int) {
	t.Helper()
	return rt(t, "run", "--bundle", b.Dir, newID(t))
}

// mustRunIn runs a container and fails unless it exits 0; returns stdout.
func mustRunIn(t testing.TB, b *bundle) string {
	t.Helper()
	so, se, code := runIn(t, b)
	if code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", b.Spec.Process.Args, code, so, se)
	}
	return so
}

// state runs `state id` and parses it.
func state(t testing.TB, id string) specs.State {
	t.Helper()
	out := mustRT(t, "state", id)
	var st specs.State
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("parse state output %q: %v", out, err)
	}
	return st
}

// createContainer runs `create` for a fresh id, checks the state and
// records the init pid and its cgroups for the leftover checks.
func createContainer(t testing.TB, b *bundle, extra ...string) (string, int) {
	t.Helper()
	id := newID(t)
	args := append([]string{"create", "--bundle", b.Dir}, extra...)
	mustRT(t, append(args, id)...)
	st := state(t, id)
	if st.Status != "created" {
		t.Fatalf("state after create: status %q, want created", st.Status)
	}
	if st.Pid <= 0 {
		t.Fatalf("state after create: pid %d", st.Pid)
	}
	trackPid(t, st.Pid)
	return id, st.Pid
}

// startContainer creates and starts a container, returning id and pid.
func startContainer(t testing.TB, b *bundle) (string, int) {
	t.Helper()
	id, pid := createContainer(t, b)
	initCmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	mustRT(t, "start", id)
	// start may return before the init has exec'd the user process: wait
	// for the exec (cmdline changes) so callers see the final process.
	pollUntil(5*time.Second, func() bool {
		c, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return err != nil || !bytes.Equal(c, initCmd)
	})
	return id, pid
}

// trackPid records a container pid and its cgroup dirs for cleanup checks.
func trackPid(t testing.TB, pid int) {
	c := ctxFor(t)
	dirs := cgroupDirsOf(pid)
	self := cgroupDirsOf(os.Getpid())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pids[pid] = true
	for ctrl, d := range dirs {
		if d != self[ctrl] && !strings.HasSuffix(d, "/fs/cgroup/"+ctrl) {
			c.cgroups[d] = true
		}
	}
}

// cgroupDirsOf maps each mounted v1 hierarchy of pid to its absolute dir.
func cgroupDirsOf(pid int) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			ctrl = strings.TrimPrefix(ctrl, "name=")
			base := filepath.Join("/sys/fs/cgroup", ctrl)
			if _, err := os.Stat(base); err != nil {
				continue
			}
			out[ctrl] = filepath.Join(base, parts[2])
		}
	}
	return out
}

// waitStatus polls `state` until the status is want.
func waitStatus(t testing.TB, id, want string) {
	t.Helper()
	var last string
	if !pollUntil(10*time.Second, func() bool {
		so, _, code := rt(t, "state", id)
		if code != 0 {
			return false
		}
		var st specs.State
		_ = json.Unmarshal([]byte(so), &st)
		last = string(st.Status)
		return string(st.Status) == want
	}) {
		t.Fatalf("container %s: status %q, want %q", id, last, want)
	}
}

// waitFile polls until path exists with non-empty content.
func waitFile(t testing.TB, path string) string {
	t.Helper()
	var data []byte
	if !pollUntil(10*time.Second, func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil && len(data) > 0
	}) {
		t.Fatalf("timed out waiting for %s", path)
	}
	return string(data)
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

// procStatus returns the fields of /proc/<pid>/status.
func procStatus(t testing.TB, pid int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func nsInode(t testing.TB, pid int, ns string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatalf("readlink ns %s of %d: %v", ns, pid, err)
	}
	return link
}

// hasNS reports whether the kernel supports namespace kind ns.
func hasNS(ns string) bool {
	_, err := os.Stat("/proc/self/ns/" + ns)
	return err == nil
}

func mustContain(t testing.TB, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}

// setNamespaces replaces the namespace list with the given types.
func setNamespaces(s *specs.Spec, types ...specs.LinuxNamespaceType) {
	s.Linux.Namespaces = nil
	for _, ty := range types {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: ty})
	}
}

// assertNoState checks that a failed create left no state dir and that
// `state` reports the container as missing.
func assertNoState(t testing.TB, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(ctxFor(t).root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir %s left after failed create (stat err %v)", id, err)
	}
	_, se, code := rt(t, "state", id)
	if code == 0 {
		t.Errorf("state %s succeeded after failed create", id)
	}
	mustContain(t, "state stderr after failed create", se, "does not exist")
}

// runNoRoot runs the runtime with exactly args (no --root added).
func runNoRoot(args ...string) result {
	return runCmd(args, nil)
}

// outFile returns a fresh path for container output.
func outFile(t testing.TB) string {
	return filepath.Join(t.TempDir(), "out")
}

// mustRTOut runs the runtime (with this test's --root) with stdout going
// to path; it fails the test on a non-zero exit.
func mustRTOut(t testing.TB, path string, args ...string) {
	t.Helper()
	r := runCmdOut(append([]string{"--root", ctxFor(t).root}, args...), nil, path)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstderr: %s", filepath.Base(rtBinary), strings.Join(args, " "), r.code, r.stderr)
	}
}

// waitLines polls path until it holds at least n lines and returns it.
func waitLines(t testing.TB, path string, n int) string {
	t.Helper()
	var data []byte
	if !pollUntil(10*time.Second, func() bool {
		data, _ = os.ReadFile(path)
		return bytes.Count(data, []byte("\n")) >= n
	}) {
		t.Fatalf("timed out waiting for %d lines in %s; have %q", n, path, data)
	}
	return string(data)
}

// reapCgroupsNamed reports cgroup dirs named id (at a hierarchy root or
// under this process's cgroup, where a default cgroupsPath lands) that
// survived delete --force, kills what is in them and removes them, so a
// failing runtime does not poison later tests.
func (c *rtCtx) reapCgroupsNamed(id string) {
	self := cgroupDirsOf(os.Getpid())
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	var left []string
	for _, e := range ents {
		for _, base := range []string{filepath.Join("/sys/fs/cgroup", e.Name()), self[e.Name()]} {
			if base == "" {
				continue
			}
			d := filepath.Join(base, id)
			if _, err := os.Stat(d); err != nil || contains(left, d) {
				continue
			}
			left = append(left, d)
		}
	}
	if len(left) == 0 {
		return
	}
	c.t.Errorf("cleanup: cgroup dirs of %s left after delete --force: %v", id, left)
	for _, d := range left {
		data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				waitGone(pid, 2*time.Second)
			}
		}
	}
	for _, d := range left {
		pollUntil(2*time.Second, func() bool { return os.Remove(d) == nil || os.IsNotExist(os.Remove(d)) })
	}
}
