package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// nsFile maps spec namespace types to their /proc/<pid>/ns entry.
var nsFile = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.CgroupNamespace:  "cgroup",
	specs.UserNamespace:    "user",
	specs.TimeNamespace:    "time",
}

func checkNamespaces(t *testing.T, pid int, inConfig map[specs.LinuxNamespaceType]bool) {
	t.Helper()
	for ty, file := range nsFile {
		if !hasNS(file) {
			continue
		}
		host := nsInode(t, os.Getpid(), file)
		got := nsInode(t, pid, file)
		if inConfig[ty] && got == host {
			t.Errorf("namespace %s is in the config but the container shares the host's %s", ty, got)
		}
		if !inConfig[ty] && got != host {
			t.Errorf("namespace %s is not in the config but the container has %s, host %s", ty, got, host)
		}
	}
}

func TestNamespacesAllNew(t *testing.T) {
	if !hasNS("cgroup") {
		t.Skip("kernel lacks cgroup namespaces (/proc/self/ns/cgroup)")
	}
	types := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.CgroupNamespace}
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { setNamespaces(s, types...) })
	_, pid := startContainer(t, b)
	in := map[specs.LinuxNamespaceType]bool{}
	for _, ty := range types {
		in[ty] = true
	}
	checkNamespaces(t, pid, in)
}

func TestNamespacesAbsentShareHost(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		setNamespaces(s, specs.MountNamespace, specs.PIDNamespace)
		s.Hostname = ""
	})
	_, pid := startContainer(t, b)
	checkNamespaces(t, pid, map[specs.LinuxNamespaceType]bool{specs.MountNamespace: true, specs.PIDNamespace: true})
}

// startHelper starts a host helper process that is killed at cleanup.
func startHelper(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// nsOfChild waits until pid's namespace file differs from the host's
// (unshare has done its work) and returns its path.
func nsOfChild(t *testing.T, pid int, file string) string {
	t.Helper()
	host := nsInode(t, os.Getpid(), file)
	path := fmt.Sprintf("/proc/%d/ns/%s", pid, file)
	if !pollUntil(5*time.Second, func() bool {
		l, err := os.Readlink(path)
		return err == nil && l != host
	}) {
		t.Fatalf("helper %d never entered a new %s namespace", pid, file)
	}
	return path
}

func TestNamespaceJoinByPath(t *testing.T) {
	requireSuite(t)
	helper := startHelper(t, "unshare", "--net", "--uts", "--ipc", "sleep", "1000")
	pid := helper.Process.Pid
	netPath := nsOfChild(t, pid, "net")
	utsPath := nsOfChild(t, pid, "uts")
	ipcPath := nsOfChild(t, pid, "ipc")
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Hostname = ""
		s.Linux.Namespaces = []specs.LinuxNamespace{
			{Type: specs.PIDNamespace},
			{Type: specs.MountNamespace},
			{Type: specs.NetworkNamespace, Path: netPath},
			{Type: specs.UTSNamespace, Path: utsPath},
			{Type: specs.IPCNamespace, Path: ipcPath},
		}
	})
	_, cpid := startContainer(t, b)
	for _, f := range []string{"net", "uts", "ipc"} {
		want := nsInode(t, pid, f)
		if got := nsInode(t, cpid, f); got != want {
			t.Errorf("joined %s namespace: container has %s, helper %s", f, got, want)
		}
	}
}

func TestNamespaceJoinNetnsAdd(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 `ip` not installed")
	}
	name := fmt.Sprintf("rt-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add failed (network namespaces unavailable?): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	path := "/var/run/netns/" + name
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
	})
	_, pid := startContainer(t, b)
	var st1, st2 = statIno(t, path), statIno(t, fmt.Sprintf("/proc/%d/ns/net", pid))
	if st1 != st2 {
		t.Errorf("container netns inode %d, `ip netns` %s has %d", st2, name, st1)
	}
}

func statIno(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestUserNamespaceMapping(t *testing.T) {
	if !hasNS("user") {
		t.Skip("kernel lacks user namespaces (/proc/self/ns/user)")
	}
	if v, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(v)) == "0" {
		t.Skip("user namespaces disabled: /proc/sys/user/max_user_namespaces is 0")
	}
	b := newBundle(t, withArgs("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; sleep 1000"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	// The mapped root (host uid 100000) must be able to reach the rootfs.
	for _, d := range []string{b.Dir, filepath.Dir(b.Dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id := newID(t)
	so := outFile(t)
	mustRTOut(t, so, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	out := waitLines(t, so, 3)
	fields := strings.Fields(out)
	if len(fields) < 7 || fields[0] != "0" || fields[1] != "100000" || fields[2] != "65536" || fields[3] != "0" || fields[4] != "100000" || fields[5] != "65536" || fields[6] != "0" {
		t.Errorf("uid_map/gid_map/id inside: %q, want 0 100000 65536 twice then uid 0", out)
	}
	if nsInode(t, pid, "user") == nsInode(t, os.Getpid(), "user") {
		t.Errorf("container shares the host user namespace")
	}
	st := procStatus(t, pid)
	if f := strings.Fields(st["Uid"]); len(f) == 0 || f[0] != "100000" {
		t.Errorf("host view of container uid: %q, want 100000", st["Uid"])
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	if !hasNS("time") {
		t.Skip("kernel lacks time namespaces (/proc/self/ns/time, Linux >= 5.6)")
	}
	const offset = 1000000
	b := newBundle(t, withArgs("sh", "-c", "cut -d. -f1 /proc/uptime; sleep 1000"), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"boottime":  {Secs: offset},
			"monotonic": {Secs: offset},
		}
	})
	id := newID(t)
	so := outFile(t)
	mustRTOut(t, so, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	inside, err := strconv.ParseFloat(strings.TrimSpace(waitLines(t, so, 1)), 64)
	if err != nil {
		t.Fatalf("parse uptime inside: %v", err)
	}
	hostUp := strings.Fields(readFile(t, "/proc/uptime"))[0]
	host, _ := strconv.ParseFloat(hostUp, 64)
	if inside < host+offset-60 || inside > host+offset+60 {
		t.Errorf("uptime inside %v, host %v: boottime offset %d not applied", inside, host, offset)
	}
	if nsInode(t, pid, "time") == nsInode(t, os.Getpid(), "time") {
		t.Errorf("container shares the host time namespace")
	}
}

func TestHostname(t *testing.T) {
	b := newBundle(t, withArgs("hostname"), func(s *specs.Spec) { s.Hostname = "box-one" })
	if out := mustRunIn(t, b); out != "box-one\n" {
		t.Errorf("hostname inside = %q, want box-one", out)
	}
	if host, _ := os.Hostname(); host == "box-one" {
		t.Errorf("container hostname leaked to the host")
	}
}

// TestDomainname: runc 1.1.5 ignores process domainname (added in runc 1.2).
func TestDomainname(t *testing.T) {
	b := newBundle(t, withArgs("cat", "/proc/sys/kernel/domainname"), func(s *specs.Spec) {
		s.Domainname = "example.test"
	})
	if out := mustRunIn(t, b); out != "example.test\n" {
		t.Errorf("domainname inside = %q, want example.test", out)
	}
}

func TestHostnameWithoutUTSRefused(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		setNamespaces(s, specs.MountNamespace, specs.PIDNamespace)
		s.Hostname = "nope"
	})
	id := newID(t)
	_, se, code := rt(t, "create", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("create with hostname but no uts namespace succeeded")
	}
	mustContain(t, "hostname without uts", strings.ToLower(se), "uts")
	assertNoState(t, id)
}

// As runc: a new network namespace has its loopback device up, so that
// 127.0.0.1 works in the container without a network hook.
func TestNewNetnsLoopbackUp(t *testing.T) {
	// /sys/class/net/lo/flags holds the interface flags in hex; IFF_UP is 0x1.
	// The default spec has a new network namespace and sysfs at /sys.
	b := newBundle(t, withArgs("cat", "/sys/class/net/lo/flags"))
	out := strings.TrimSpace(mustRunIn(t, b))
	v, err := strconv.ParseUint(strings.TrimPrefix(out, "0x"), 16, 32)
	if err != nil {
		t.Fatalf("lo flags %q: %v", out, err)
	}
	if v&1 == 0 {
		t.Errorf("lo in the container's new network namespace is down (flags %s); runc brings it up", out)
	}
}
