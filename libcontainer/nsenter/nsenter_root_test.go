package nsenter

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// These tests run the C stage for real: the test binary links it (this
// package), re-executes itself with _RT_INITPIPE and a bootstrap made by
// initproto's encoder, answers the C stage as rt does, and then reads back
// what the process that returned into Go sees of itself. Go's encoder and
// C's parser cannot drift apart unnoticed.

const childEnv = "_RT_NSENTER_TEST_CHILD"

// report is what the process that returned into Go tells the test.
type report struct {
	Pid      int               `json:"pid"`
	Dumpable int               `json:"dumpable"`
	Ns       map[string]string `json:"ns"`
	UIDMap   string            `json:"uid_map"`
	UID      int               `json:"uid"`
	MonoSecs int64             `json:"mono_secs"`
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		childReport()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childReport() {
	fd, _ := strconv.Atoi(os.Getenv("_RT_INITPIPE"))
	conn := initproto.NewConn(os.NewFile(uintptr(fd), "init"))
	r := report{Pid: os.Getpid(), Ns: map[string]string{}, UID: os.Getuid()}
	d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	r.Dumpable = d
	for _, ns := range []string{"uts", "ipc", "net", "pid_for_children", "user", "time_for_children", "cgroup", "mnt"} {
		r.Ns[ns], _ = os.Readlink("/proc/self/ns/" + ns)
	}
	data, _ := os.ReadFile("/proc/self/uid_map")
	r.UIDMap = strings.Join(strings.Fields(string(data)), " ")
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	r.MonoSecs = ts.Sec
	out, _ := json.Marshal(r)
	conn.Send(initproto.Ready, out)
}

type stage struct {
	t    *testing.T
	cmd  *exec.Cmd
	conn *initproto.Conn
}

// startStage re-executes the test binary with the init socket and sends b.
func startStage(t *testing.T, b *initproto.BootstrapData) *stage {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces)")
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
	defer child.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.ExtraFiles = []*os.File{child}
	cmd.Env = []string{"_RT_INITPIPE=3", childEnv + "=1"}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &stage{t: t, cmd: cmd, conn: initproto.NewConn(parent)}
	t.Cleanup(func() {
		s.conn.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	frame, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Write(frame); err != nil {
		t.Fatal(err)
	}
	// Nothing here may hang the test run.
	parent.SetDeadline(time.Now().Add(20 * time.Second))
	return s
}

// run answers the C stage as rt's parent does, then returns the pid it
// reported and the report of the process that returned into Go.
func (s *stage) run(cgroupOK bool, onMaps func(pid int)) (int, *report) {
	s.t.Helper()
	if cgroupOK {
		if err := s.conn.Send(initproto.CgroupOK, nil); err != nil {
			s.t.Fatal(err)
		}
	}
	var pid int
	for pid == 0 {
		m, err := s.conn.Recv()
		if err != nil {
			s.t.Fatalf("C stage: %v", err)
		}
		switch m.Type {
		case initproto.UserMaps:
			if onMaps == nil {
				s.t.Fatal("C stage asked for user maps unexpectedly")
			}
			onMaps(s.cmd.Process.Pid)
			if err := s.conn.Send(initproto.MapsOK, nil); err != nil {
				s.t.Fatal(err)
			}
		case initproto.Pid:
			if len(m.Payload) != 4 {
				s.t.Fatalf("pid frame of %d bytes", len(m.Payload))
			}
			pid = int(binary.LittleEndian.Uint32(m.Payload))
		default:
			s.t.Fatalf("C stage: %v", m.Expect(initproto.Pid))
		}
	}
	m, err := s.conn.Expect(initproto.Ready)
	if err != nil {
		s.t.Fatalf("child report: %v", err)
	}
	var r report
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		s.t.Fatal(err)
	}
	return pid, &r
}

func selfNs(t *testing.T, ns string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + ns)
	if err != nil {
		t.Skipf("no %s namespace in this kernel: %v", ns, err)
	}
	return l
}

func TestUnshare(t *testing.T) {
	s := startStage(t, &initproto.BootstrapData{CloneFlags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET})
	pid, r := s.run(true, nil)
	if pid != s.cmd.Process.Pid || r.Pid != pid {
		t.Errorf("pid %d, child says %d, started %d: no fork expected", pid, r.Pid, s.cmd.Process.Pid)
	}
	for _, ns := range []string{"uts", "ipc", "net"} {
		if r.Ns[ns] == selfNs(t, ns) {
			t.Errorf("%s namespace not unshared (%s)", ns, r.Ns[ns])
		}
	}
	if r.Ns["mnt"] != selfNs(t, "mnt") {
		t.Errorf("mount namespace changed without being asked")
	}
	if r.Dumpable != 1 {
		t.Errorf("dumpable %d without the d record", r.Dumpable)
	}
}

func TestNonDumpableAndPidNamespace(t *testing.T) {
	s := startStage(t, &initproto.BootstrapData{CloneFlags: unix.CLONE_NEWPID, NonDumpable: true})
	pid, r := s.run(true, nil)
	if pid == s.cmd.Process.Pid {
		t.Errorf("pid namespace: reported pid %d is the C stage's own; want its child", pid)
	}
	if r.Pid != 1 {
		t.Errorf("pid namespace: the init sees itself as pid %d, want 1", r.Pid)
	}
	if r.Dumpable != 0 {
		t.Errorf("d record: dumpable %d, want 0", r.Dumpable)
	}
}

func TestJoinByPath(t *testing.T) {
	// A process in a new uts+net namespace to join.
	holder := exec.Command("sleep", "30")
	holder.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWNET}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	base := "/proc/" + strconv.Itoa(holder.Process.Pid) + "/ns/"
	want := map[string]string{}
	for _, ns := range []string{"uts", "net"} {
		l, err := os.Readlink(base + ns)
		if err != nil {
			t.Fatal(err)
		}
		want[ns] = l
	}
	s := startStage(t, &initproto.BootstrapData{
		Joins:      []initproto.NsJoin{{Type: unix.CLONE_NEWNET, Path: base + "net"}, {Type: unix.CLONE_NEWUTS, Path: base + "uts"}},
		LateCgroup: true, // no CgroupOK is sent: the stage must not wait for it
	})
	_, r := s.run(false, nil)
	for ns, l := range want {
		if r.Ns[ns] != l {
			t.Errorf("%s namespace %s, want the joined %s", ns, r.Ns[ns], l)
		}
	}
}

func TestJoinErrorNamesPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-ns")
	s := startStage(t, &initproto.BootstrapData{Joins: []initproto.NsJoin{{Type: unix.CLONE_NEWNET, Path: missing}}})
	m, err := s.conn.Recv()
	if err != nil {
		t.Fatal(err)
	}
	perr := m.Expect(initproto.Pid)
	if m.Type != initproto.Error || !strings.Contains(perr.Error(), "open net namespace path "+missing) ||
		!strings.Contains(strings.ToLower(perr.Error()), "no such file") {
		t.Fatalf("got %s %q, want an error naming %s", m.Type, m.Payload, missing)
	}
	if err := s.cmd.Wait(); err == nil {
		t.Error("the C stage exited 0 after an error")
	}
}

func TestUserNamespaceMaps(t *testing.T) {
	if data, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(data)) == "0" {
		t.Skip("user namespaces disabled (user.max_user_namespaces=0)")
	}
	s := startStage(t, &initproto.BootstrapData{CloneFlags: unix.CLONE_NEWUSER | unix.CLONE_NEWUTS, NonDumpable: true})
	asked := false
	_, r := s.run(true, func(pid int) {
		asked = true
		for _, f := range []string{"uid_map", "gid_map"} {
			if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s", pid, f), []byte("0 100000 65536\n"), 0); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !asked {
		t.Fatal("the C stage never asked for its maps")
	}
	if r.UIDMap != "0 100000 65536" || r.UID != 0 {
		t.Errorf("uid_map %q uid %d, want 0 100000 65536 and root", r.UIDMap, r.UID)
	}
	if r.Ns["user"] == selfNs(t, "user") {
		t.Error("user namespace not unshared")
	}
}

func TestTimeOffsets(t *testing.T) {
	selfNs(t, "time")
	s := startStage(t, &initproto.BootstrapData{
		CloneFlags:  unix.CLONE_NEWTIME,
		TimeOffsets: []initproto.TimeOffset{{Clock: unix.CLOCK_MONOTONIC, Secs: 86400 * 365}, {Clock: unix.CLOCK_BOOTTIME, Secs: 10}},
	})
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	_, r := s.run(true, nil)
	if d := r.MonoSecs - ts.Sec; d < 86400*365-5 || d > 86400*365+60 {
		t.Errorf("monotonic clock offset %d s in the child, want about %d", d, 86400*365)
	}
}

// The type bytes the C stage uses (proto.h) are initproto's.
func TestProtoHeaderMatchesGo(t *testing.T) {
	data, err := os.ReadFile("proto.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define (RT_\w+) (.+)$`).FindAllStringSubmatch(string(data), -1) {
		defs[m[1]] = strings.TrimSpace(m[2])
	}
	for typ, name := range initproto.Types {
		if got, want := defs[name], "'"+string(rune(typ))+"'"; got != want {
			t.Errorf("proto.h %s = %q, initproto says %s", name, got, want)
		}
	}
	for name, want := range map[string]int{
		"RT_FRAME_HEADER": initproto.HeaderSize, "RT_MAX_JOIN": initproto.MaxJoins,
		"RT_MAX_TIME": initproto.MaxTimeOffsets, "RT_MAX_CGROUP_TASKS": initproto.MaxCgroupTasks,
	} {
		if defs[name] != strconv.Itoa(want) {
			t.Errorf("proto.h %s = %q, initproto says %d", name, defs[name], want)
		}
	}
	if defs["RT_MAX_BOOTSTRAP"] != "(1 << 20)" || initproto.MaxBootstrapLen != 1<<20 {
		t.Errorf("RT_MAX_BOOTSTRAP %q vs initproto %d", defs["RT_MAX_BOOTSTRAP"], initproto.MaxBootstrapLen)
	}
}
