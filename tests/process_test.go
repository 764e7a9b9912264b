package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcessArgsEnvCwd(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", `echo "$FOO|$2|$0"; pwd`, "zero", "one", "two words"), func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "FOO=bar baz")
		s.Process.Cwd = "/tmp"
	})
	if out := mustRunIn(t, b); out != "bar baz|two words|zero\n/tmp\n" {
		t.Errorf("output %q", out)
	}
}

func TestProcessEnvExact(t *testing.T) {
	b := newBundle(t, withArgs("env"), func(s *specs.Spec) {
		s.Process.Env = []string{"PATH=/bin", "ONLY=1"}
	})
	lines := strings.Fields(mustRunIn(t, b))
	got := map[string]bool{}
	for _, l := range lines {
		got[l] = true
	}
	if !got["PATH=/bin"] || !got["ONLY=1"] {
		t.Errorf("env inside %v lacks the configured variables", lines)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "_LIBCONTAINER") || strings.HasPrefix(l, "RT_") {
			t.Errorf("runtime-internal variable leaked into the container: %s", l)
		}
	}
}

func TestCwdCreated(t *testing.T) {
	b := newBundle(t, withArgs("pwd"), func(s *specs.Spec) { s.Process.Cwd = "/does/not/exist/yet" })
	if out := mustRunIn(t, b); out != "/does/not/exist/yet\n" {
		t.Errorf("pwd = %q", out)
	}
}

func TestProcessUser(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}
	})
	_, pid := startContainer(t, b)
	st := procStatus(t, pid)
	if f := strings.Fields(st["Uid"]); len(f) != 4 || f[0] != "1000" || f[1] != "1000" || f[2] != "1000" || f[3] != "1000" {
		t.Errorf("Uid %q, want 1000 for real/effective/saved/fs", st["Uid"])
	}
	if f := strings.Fields(st["Gid"]); len(f) != 4 || f[0] != "1001" || f[1] != "1001" {
		t.Errorf("Gid %q, want 1001", st["Gid"])
	}
	if g := strings.Fields(st["Groups"]); strings.Join(g, ",") != "10,20" {
		t.Errorf("Groups %q, want 10 20", st["Groups"])
	}
}

func TestProcessUserIDInside(t *testing.T) {
	b := newBundle(t, withArgs("id"), func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 65534, GID: 65534}
	})
	out := mustRunIn(t, b)
	mustContain(t, "id", out, "uid=65534(nobody) gid=65534(nogroup)")
	if strings.Contains(out, "groups=0") || strings.Contains(out, "(root)") {
		t.Errorf("root group kept: %q", out)
	}
}

func TestUmask(t *testing.T) {
	mask := uint32(0o027)
	b := newBundle(t, withArgs("sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"), func(s *specs.Spec) {
		s.Process.User.Umask = &mask
	})
	if out := mustRunIn(t, b); out != "0027\n640\n" {
		t.Errorf("umask output %q, want 0027 and mode 640", out)
	}
}

func TestRlimits(t *testing.T) {
	b := newBundle(t, withArgs("sh", "-c", "ulimit -n; ulimit -Hn; sleep 1000"), func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1234, Hard: 2345}}
	})
	id := newID(t)
	so := outFile(t)
	mustRTOut(t, so, "run", "-d", "--bundle", b.Dir, id)
	pid := state(t, id).Pid
	trackPid(t, pid)
	if out := waitLines(t, so, 2); out != "1234\n2345\n" {
		t.Errorf("ulimit -n / -Hn inside = %q, want 1234 2345", out)
	}
	limits := readFile(t, fmt.Sprintf("/proc/%d/limits", pid))
	found := false
	for _, l := range strings.Split(limits, "\n") {
		if strings.HasPrefix(l, "Max open files") {
			f := strings.Fields(l)
			found = len(f) >= 5 && f[3] == "1234" && f[4] == "2345"
		}
	}
	if !found {
		t.Errorf("/proc/%d/limits does not show 1234/2345 open files:\n%s", pid, limits)
	}
}

// TestRlimitAboveHardFails: a hard limit above the caller's is refused
// when the caller may not raise it. rt runs with CAP_SYS_RESOURCE dropped
// from its bounding set (setpriv), so the test means the same on every
// host, whether or not root has that capability.
func TestRlimitAboveHardFails(t *testing.T) {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux, scripts/install-deps.sh) not installed:", err)
	}
	limit := cur.Max + 1000
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: limit, Hard: limit}}
	})
	id := newID(t)
	r := runBinary(setpriv, []string{"--bounding-set", "-sys_resource", "--inh-caps", "-sys_resource",
		rtBinary, "--root", ctxFor(t).root, "run", "--bundle", b.Dir, id}, nil, "", nil)
	if r.code == 0 {
		t.Fatalf("run with NOFILE %d above the hard limit %d and no CAP_SYS_RESOURCE succeeded", limit, cur.Max)
	}
	mustContain(t, "rlimit error", strings.ToLower(r.stderr), "rlimit")
	assertNoState(t, id)
	assertNoCgroupNamed(t, id)
}

func TestOOMScoreAdj(t *testing.T) {
	adj := 512
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj })
	_, pid := startContainer(t, b)
	if got := strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/oom_score_adj", pid))); got != "512" {
		t.Errorf("oom_score_adj %s, want 512", got)
	}
}

var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
	"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
	"CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
	"CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
	"CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
	"CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
	"CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
	"CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37,
	"CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
}

func capMask(t *testing.T, names []string) uint64 {
	var m uint64
	for _, n := range names {
		v, ok := capNumbers[n]
		if !ok {
			t.Fatalf("unknown capability %q in test table", n)
		}
		m |= 1 << v
	}
	return m
}

func TestCapabilities(t *testing.T) {
	caps := &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"},
		Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_SETUID"},
		Inheritable: []string{"CAP_KILL", "CAP_SETUID"},
		Ambient:     []string{"CAP_KILL"},
	}
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.Capabilities = caps
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	_, pid := startContainer(t, b)
	st := procStatus(t, pid)
	// For a non-root user the exec of sleep (no file caps) recomputes the
	// sets: the new permitted and effective sets are the ambient set.
	want := map[string][]string{
		"CapBnd": caps.Bounding,
		"CapInh": caps.Inheritable,
		"CapAmb": caps.Ambient,
		"CapPrm": caps.Ambient,
		"CapEff": caps.Ambient,
	}
	for field, names := range want {
		got, err := strconv.ParseUint(st[field], 16, 64)
		if err != nil {
			t.Fatalf("%s %q: %v", field, st[field], err)
		}
		if exp := capMask(t, names); got != exp {
			t.Errorf("%s = %016x, want %016x (%v)", field, got, exp, names)
		}
	}
}

// TestCreatedInitBoundingSet: the init waiting for start has already
// dropped what the bounding set leaves out (runc's init drops its
// capabilities before it waits for start); it still holds the effective
// set it needs until start, and the started process has the same bounding
// set.
func TestCreatedInitBoundingSet(t *testing.T) {
	bounding := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: bounding, Effective: bounding, Permitted: bounding}
	})
	id, pid := createContainer(t, b)
	exp := capMask(t, bounding)
	if got, _ := strconv.ParseUint(procStatus(t, pid)["CapBnd"], 16, 64); got != exp {
		t.Errorf("created init: CapBnd = %016x, want %016x", got, exp)
	}
	mustRT(t, "start", id)
	waitStatus(t, id, "running")
	if got, _ := strconv.ParseUint(procStatus(t, pid)["CapBnd"], 16, 64); got != exp {
		t.Errorf("started process: CapBnd = %016x, want %016x", got, exp)
	}
}

func TestCapabilitiesAsRootNonAmbient(t *testing.T) {
	// uid 0 keeps permitted/effective across exec (they are the bounding
	// set masked by the configured permitted/effective sets).
	caps := &specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Effective: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Permitted: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
	}
	b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Process.Capabilities = caps })
	_, pid := startContainer(t, b)
	st := procStatus(t, pid)
	exp := capMask(t, caps.Bounding)
	for _, field := range []string{"CapBnd", "CapPrm", "CapEff"} {
		got, _ := strconv.ParseUint(st[field], 16, 64)
		if got != exp {
			t.Errorf("%s = %016x, want %016x", field, got, exp)
		}
	}
	if st["CapInh"] != "0000000000000000" || st["CapAmb"] != "0000000000000000" {
		t.Errorf("CapInh %s CapAmb %s, want 0", st["CapInh"], st["CapAmb"])
	}
}

func TestNoNewPrivileges(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(strconv.FormatBool(nnp), func(t *testing.T) {
			b := newBundle(t, withArgs("sleep", "1000"), func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp })
			_, pid := startContainer(t, b)
			want := "0"
			if nnp {
				want = "1"
			}
			if got := procStatus(t, pid)["NoNewPrivs"]; got != want {
				t.Errorf("NoNewPrivs %s, want %s", got, want)
			}
		})
	}
}

func TestMissingProgram(t *testing.T) {
	for _, arg := range []string{"/no/such/program", "no-such-program"} {
		t.Run(strings.Trim(arg, "/"), func(t *testing.T) {
			b := newBundle(t, withArgs(arg))
			id := newID(t)
			_, se, code := rt(t, "run", "--bundle", b.Dir, id)
			if code == 0 {
				t.Fatalf("run of a missing program %q succeeded", arg)
			}
			low := strings.ToLower(se)
			if !strings.Contains(low, "no such file") && !strings.Contains(low, "executable file not found") {
				t.Errorf("error for missing %q does not say why: %s", arg, se)
			}
			assertNoState(t, id)
			assertNoCgroupNamed(t, id)
		})
	}
}

func TestNotExecutable(t *testing.T) {
	b := newBundle(t, withArgs("/etc/passwd"))
	id := newID(t)
	_, se, code := rt(t, "run", "--bundle", b.Dir, id)
	if code == 0 {
		t.Fatal("run of a non-executable file succeeded")
	}
	mustContain(t, "non-executable error", strings.ToLower(se), "permission denied")
	assertNoState(t, id)
}

// assertNoCgroupNamed checks that no cgroup dir for id exists at the root
// of any hierarchy or under this process's own cgroup.
func assertNoCgroupNamed(t testing.TB, id string) {
	t.Helper()
	self := cgroupDirsOf(os.Getpid())
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range ents {
		for _, base := range []string{filepath.Join("/sys/fs/cgroup", e.Name()), self[e.Name()]} {
			if base == "" {
				continue
			}
			p := filepath.Join(base, id)
			if _, err := os.Stat(p); err == nil {
				t.Errorf("cgroup dir %s left behind", p)
				_ = os.Remove(p)
			}
		}
	}
}

// TestBoundingSetWithoutSetpcap: rt started without CAP_SETPCAP (capsh
// drops it from the bounding set, so from root's permitted set at exec) can
// still run a container whose bounding set lacks only what rt lacks (the
// drop is not needed), and says which capability it cannot drop otherwise.
func TestBoundingSetWithoutSetpcap(t *testing.T) {
	capsh, err := exec.LookPath("capsh")
	if err != nil {
		t.Fatal("capsh (libcap2-bin, which make deps installs) is missing")
	}
	lastCap, err := strconv.Atoi(strings.TrimSpace(readFile(t, "/proc/sys/kernel/cap_last_cap")))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for name, n := range capNumbers {
		if int(n) <= lastCap && name != "CAP_SETPCAP" {
			all = append(all, name)
		}
	}
	sort.Strings(all)
	run := func(bounding []string) result {
		b := newBundle(t, withArgs("sh", "-c", "grep CapBnd /proc/self/status"), func(s *specs.Spec) {
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: bounding}
		})
		return runBinary(capsh, []string{"--drop=cap_setpcap", "--", "-c",
			rtBinary + " --root " + ctxFor(t).root + " run --bundle " + b.Dir + " " + newID(t)}, nil, "", nil)
	}
	if r := run(all); r.code != 0 || !strings.Contains(r.stdout, "CapBnd:") {
		t.Fatalf("bounding set = rt's own without CAP_SETPCAP: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var less []string
	for _, c := range all {
		if c != "CAP_SYS_TIME" {
			less = append(less, c)
		}
	}
	r := run(less)
	if r.code == 0 {
		t.Fatalf("a drop rt cannot make succeeded: stdout %q", r.stdout)
	}
	mustContain(t, "stderr", r.stderr, "drop CAP_SYS_TIME from the bounding set: operation not permitted")
}
