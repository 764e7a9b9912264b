package tests

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNoFdLeak(t *testing.T) {
	// ash runs ls in a child, so /proc/1/fd lists the init's own fds.
	b := newBundle(t, withArgs("sh", "-c", "ls /proc/1/fd; true"))
	out := strings.Fields(mustRunIn(t, b))
	if strings.Join(out, " ") != "0 1 2" {
		t.Errorf("container init has fds %v, want only 0 1 2", out)
	}
}

func TestPreserveFds(t *testing.T) {
	dir := t.TempDir()
	var files []*os.File
	for _, name := range []string{"extra-a", "extra-b", "extra-c"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	b := newBundle(t, withArgs("sh", "-c", "ls /proc/1/fd; readlink /proc/1/fd/3; readlink /proc/1/fd/4; echo via-fd4 >&4; true"))
	id := newID(t)
	out := outFile(t)
	// Three extra fds are open in the runtime (3, 4, 5); only two are preserved.
	r := runBinary(rtBinary, []string{"--root", ctxFor(t).root, "run", "--preserve-fds", "2", "--bundle", b.Dir, id}, nil, out, files)
	if r.code != 0 {
		t.Fatalf("run --preserve-fds 2: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, out)), "\n")
	if len(lines) != 7 || strings.Join(lines[:5], " ") != "0 1 2 3 4" {
		t.Fatalf("container output %q, want fds 0-4 then two links", lines)
	}
	if !strings.HasSuffix(lines[5], "extra-a") || !strings.HasSuffix(lines[6], "extra-b") {
		t.Errorf("preserved fds 3,4 point to %q %q, want extra-a extra-b", lines[5], lines[6])
	}
	if got := readFile(t, filepath.Join(dir, "extra-b")); got != "via-fd4\n" {
		t.Errorf("write through preserved fd 4 gave %q", got)
	}
}

func TestSymlinkedProcRefused(t *testing.T) {
	hostDir := t.TempDir()
	b := newBundle(t, withArgs("true"))
	procDir := filepath.Join(b.Rootfs, "proc")
	if err := os.Remove(procDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostDir, procDir); err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	_, se, code := rt(t, "run", "--bundle", b.Dir, id)
	if m := mountsUnder(hostDir); len(m) > 0 {
		for _, p := range m {
			_ = syscall.Unmount(p, syscall.MNT_DETACH)
		}
		t.Fatalf("proc was mounted on the host dir %s through the rootfs symlink", hostDir)
	}
	if code == 0 {
		t.Fatalf("run with /proc a symlink to %s succeeded", hostDir)
	}
	mustContain(t, "symlinked proc error", se, "proc")
	assertNoState(t, id)
}

func TestCwdProcSelfFdNoEscape(t *testing.T) {
	// CVE-2024-21626: a cwd of /proc/self/fd/N may name a runtime fd that
	// is still open on a host directory during exec.
	marker := fmt.Sprintf("rt-host-marker-%d", os.Getpid())
	hostFile := filepath.Join("/tmp", marker)
	if err := os.WriteFile(hostFile, []byte("HOST-SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(hostFile) })
	for n := 3; n <= 9; n++ {
		b := newBundle(t, withArgs("sh", "-c", "cat ../../../../../../../../tmp/"+marker+" 2>/dev/null; cat /proc/self/cwd/../../../../../../../../tmp/"+marker+" 2>/dev/null; true"), func(s *specs.Spec) {
			s.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", n)
		})
		so, _, _ := runIn(t, b)
		if strings.Contains(so, "HOST-SECRET") {
			t.Fatalf("cwd /proc/self/fd/%d escaped to the host filesystem", n)
		}
	}
}

// TestExeOverwriteAttack reproduces CVE-2019-5736 against a copy of the
// binary under test. Container A (the attacker) shares its pid namespace
// with container B. While B is "created", its init is the runtime binary:
// A tries to open /proc/<B-init>/exe (read-only, then for writing).
// B's entrypoint is a `#!/proc/self/exe` script, so when B starts, the
// kernel runs the runtime's own executable again as B's process. After B
// has exited, A writes through the fd it kept (the actual CVE step) and
// tries /proc/<pid>/exe again. The copy of the binary must be unchanged.
func TestExeOverwriteAttack(t *testing.T) {
	requireSuite(t)
	victim := filepath.Join(t.TempDir(), filepath.Base(rtBinary))
	if err := copyFile(rtBinary, victim, 0o755); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, victim)
	root := ctxFor(t).root
	run := func(args ...string) result {
		return runBinary(victim, append([]string{"--root", root}, args...), nil, "", nil)
	}
	// The harness's cleanup deletes with the real binary; that is fine:
	// both share the state root.
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	attacker := `
try() { # $1 = pid
	e=$(readlink /proc/$1/exe 2>&1)
	echo "pid $1 exe=$e" >> /shared/log
	case "$e" in /bin/busybox) return;; esac
	# A failed redirection on "exec" would end the shell: probe in a subshell.
	if [ "$HAVE3" != 1 ] && (exec 3< /proc/$1/exe) 2>>/shared/log; then exec 3< /proc/$1/exe; HAVE3=1; echo "opened-ro $1" >> /shared/log; fi
	(echo PWNED >> /proc/$1/exe) 2>>/shared/log && echo "WROTE-DIRECT $1" >> /shared/log
}
scan() { for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$p" = 1 ] && continue; [ -d /proc/$p ] || continue; try $p; done; }
while [ ! -e /shared/scan ]; do sleep 0.02; done
scan
echo ready > /shared/ready
while [ ! -e /shared/go ]; do scan; sleep 0.02; done
if [ "$HAVE3" = 1 ]; then (echo PWNED >> /proc/self/fd/3) 2>>/shared/log && echo "WROTE-FD" >> /shared/log; fi
echo done > /shared/done
exec sleep 1000
`
	a := newBundle(t, withArgs("sh", "-c", attacker), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/shared", Type: "bind", Source: shared, Options: []string{"rbind", "rw"}})
	})
	idA := newID(t)
	if r := run("run", "-d", "--bundle", a.Dir, idA); r.code != 0 {
		t.Fatalf("start attacker: %s", r.stderr)
	}
	pidA := state(t, idA).Pid
	trackPid(t, pidA)

	bb := newBundle(t, withArgs("/evil"), func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", pidA)
			}
		}
	})
	if err := os.WriteFile(filepath.Join(bb.Rootfs, "evil"), []byte("#!/proc/self/exe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	idB := newID(t)
	if r := run("create", "--bundle", bb.Dir, idB); r.code != 0 {
		t.Fatalf("create victim container: %s", r.stderr)
	}
	trackPid(t, state(t, idB).Pid)
	if err := os.WriteFile(filepath.Join(shared, "scan"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(shared, "ready"))
	// B's process is the runtime binary again; it fails (an unknown
	// command), which is fine: only the binary's integrity matters.
	run("start", idB)
	pollUntil(10*time.Second, func() bool {
		so, _, code := rt(t, "state", idB)
		return code != 0 || strings.Contains(so, `"stopped"`)
	})
	if err := os.WriteFile(filepath.Join(shared, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(shared, "done"))
	log := readFile(t, filepath.Join(shared, "log"))
	if after := fileSum(t, victim); !bytes.Equal(before, after) {
		t.Fatalf("the runtime binary was overwritten from inside the container (CVE-2019-5736); attacker log:\n%s", log)
	}
	if strings.Contains(log, "WROTE") {
		t.Errorf("attacker reported a successful write:\n%s", log)
	}
	t.Logf("attacker log:\n%s", log)
}

func fileSum(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return s[:]
}

// TestInitNotDumpable: while a container is "created", its init is rt
// itself, holding rt's state (config, fds). A process of another container
// in the same pid namespace, root but without CAP_SYS_PTRACE, must not be
// able to read its memory maps, environment, fds or exe (CVE-2016-9962
// class). runc 1.1.5 fails this: its Go init is dumpable again by then.
func TestInitNotDumpable(t *testing.T) {
	victim := newBundle(t, withArgs("sleep", "100"))
	_, vpid := createContainer(t, victim)
	attacker := newBundle(t, withArgs("sh", "-c",
		"for f in environ maps; do if cat /proc/1/$f >/dev/null 2>&1; then echo LEAK:$f; else echo denied:$f; fi; done; "+
			"if readlink /proc/1/fd/0 >/dev/null 2>&1; then echo LEAK:fd; else echo denied:fd; fi; "+
			"if readlink /proc/1/exe >/dev/null 2>&1; then echo LEAK:exe; else echo denied:exe; fi"),
		func(s *specs.Spec) {
			for i, ns := range s.Linux.Namespaces {
				if ns.Type == specs.PIDNamespace {
					s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", vpid)
				}
			}
		})
	out := mustRunIn(t, attacker)
	for _, f := range []string{"environ", "maps", "fd", "exe"} {
		if !strings.Contains(out, "denied:"+f) {
			t.Errorf("reading /proc/1/%s of a created container's init from a sibling container: %q", f, out)
		}
	}
}

// TestDevSymlinkStaysInside: an image whose /dev is a symlink to a host
// path (CVE-2026-41579 class). Whether /dev gets a tmpfs or not, the device
// nodes, /dev symlinks and mounts must land inside the rootfs, and nothing
// may be created, removed or mounted in the host directory.
func TestDevSymlinkStaysInside(t *testing.T) {
	for _, withDevMount := range []bool{true, false} {
		t.Run(fmt.Sprintf("devTmpfs=%v", withDevMount), func(t *testing.T) {
			hostDir := t.TempDir()
			canary := filepath.Join(hostDir, "canary")
			os.WriteFile(canary, []byte("x"), 0o644)
			b := newBundle(t, withArgs("sh", "-c", "ls /dev/null /dev/zero >/dev/null && echo devices-ok"), func(s *specs.Spec) {
				if !withDevMount {
					var ms []specs.Mount
					for _, m := range s.Mounts {
						if !strings.HasPrefix(m.Destination, "/dev") {
							ms = append(ms, m)
						}
					}
					s.Mounts = ms
				}
			})
			devDir := filepath.Join(b.Rootfs, "dev")
			os.RemoveAll(devDir)
			if err := os.Symlink(hostDir, devDir); err != nil {
				t.Fatal(err)
			}
			so, se, _ := runIn(t, b)
			if m := mountsUnder(hostDir); len(m) > 0 {
				for _, p := range m {
					_ = syscall.Unmount(p, syscall.MNT_DETACH)
				}
				t.Fatalf("mounted on the host dir through the /dev symlink: %v", m)
			}
			ents, _ := os.ReadDir(hostDir)
			if len(ents) != 1 || ents[0].Name() != "canary" {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Fatalf("host dir behind the /dev symlink changed: %v (stdout %q, stderr %q)", names, so, se)
			}
		})
	}
}

// TestMaskedPathDevNullSwap (CVE-2025-31133 class): maskedPaths bind the
// container's /dev/null over files. With /dev not a fresh tmpfs, an image
// can make /dev/null a symlink to a procfs file; binding "it" would expose
// that file read-write. rt must refuse rather than bind anything but the
// real null device.
func TestMaskedPathDevNullSwap(t *testing.T) {
	b := newBundle(t, withArgs("cat", "/proc/kcore"), func(s *specs.Spec) {
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/dev" {
				ms = append(ms, m)
			}
		}
		s.Mounts = ms
		s.Linux.MaskedPaths = []string{"/proc/timer_list"}
	})
	dev := filepath.Join(b.Rootfs, "dev")
	os.MkdirAll(dev, 0o755)
	os.Remove(filepath.Join(dev, "null"))
	if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(dev, "null")); err != nil {
		t.Fatal(err)
	}
	b.Spec.Process.Args = []string{"sh", "-c", "cat /proc/timer_list | head -1; grep -c timer_list /proc/self/mountinfo"}
	b.write(t)
	id := newID(t)
	so, se, code := rt(t, "run", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatalf("ran with /dev/null a symlink into procfs: stdout %q", so)
	}
	mustContain(t, "refusal", se, "null")
	assertNoState(t, id)
}

// TestSysctlNotOnProcRefused (CVE-2025-52881 class): sysctl values are
// written only to files that really are on procfs; a mount over /proc/sys
// must not receive them.
func TestSysctlNotOnProcRefused(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"})
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		s.Linux.ReadonlyPaths = nil
	})
	id := newID(t)
	_, se, code := rt(t, "run", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("sysctl written through a tmpfs mounted over /proc/sys")
	}
	// Refused when mounting over /proc already (as runc), or at the write.
	if !strings.Contains(se, "procfs") && !strings.Contains(se, "inside /proc") {
		t.Errorf("refusal does not say why: %q", se)
	}
	assertNoState(t, id)
}

// TestSysctlOvermountRefused (CVE-2025-52881): a procfs file mounted over
// the sysctl rt writes, after the container's /proc is mounted (here by a
// createContainer hook in the container's mount namespace, as a shared
// mount of another container would in the advisory), would take rt's
// write as root: here a host process's oom_score_adj. The write is
// refused, naming the sysctl, the host process is untouched, and nothing
// is left.
func TestSysctlOvermountRefused(t *testing.T) {
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	adj := fmt.Sprintf("/proc/%d/oom_score_adj", victim.Process.Pid)
	before := strings.TrimSpace(readFile(t, adj))
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		setNamespaces(s, specs.PIDNamespace, specs.MountNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace)
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_default_ttl": "123"}
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{
			Path: "/bin/sh",
			Args: []string{"sh", "-c", "mount --bind " + adj + " proc/sys/net/ipv4/ip_default_ttl"},
		}}}
	})
	id := newID(t)
	_, se, code := rt(t, "run", "--bundle", b.Dir, id)
	if after := strings.TrimSpace(readFile(t, adj)); after != before {
		t.Fatalf("the sysctl's write went to the file mounted over it: %s %s -> %s", adj, before, after)
	}
	if code == 0 {
		t.Fatal("run succeeded with a file mounted over the sysctl's path")
	}
	mustContain(t, "refusal", se, `linux.sysctl["net.ipv4.ip_default_ttl"]: /proc/sys/net/ipv4/ip_default_ttl: something is mounted on the path`)
	assertNoState(t, id)
}

// TestCgroupMountReadOnly (CVE-2023-25809 class): the container's view of
// its cgroups is read-only unless the mount says rw.
func TestCgroupMountReadOnly(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "for d in /sys/fs/cgroup /sys/fs/cgroup/pids /sys/fs/cgroup/memory; do touch $d/rt-x 2>/dev/null && echo WRITABLE:$d; mkdir $d/rt-d 2>/dev/null && echo WRITABLE:$d; done; echo done"))
	out := mustRunIn(t, b)
	if strings.Contains(out, "WRITABLE") || !strings.Contains(out, "done") {
		t.Errorf("cgroup mount writable in the container: %q", out)
	}
}
