package seccomp

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func uintp(v uint) *uint { return &v }

func TestValidate(t *testing.T) {
	good := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintp(38),
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_TSYNC"},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "not_a_real_syscall"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
			{Names: []string{"getppid"}, Action: specs.ActNotify},
		},
		ListenerPath: "/run/agent.sock",
	}
	if err := Validate(good); err != nil {
		t.Fatal(err)
	}
	if err := Validate(nil); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(s *specs.LinuxSeccomp){
		`linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`:                          func(s *specs.LinuxSeccomp) { s.DefaultAction = "SCMP_ACT_FOO" },
		`linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno`: func(s *specs.LinuxSeccomp) { s.DefaultAction = specs.ActKill },
		`linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as the default action`: func(s *specs.LinuxSeccomp) {
			s.DefaultAction, s.DefaultErrnoRet = specs.ActNotify, nil
		},
		`linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"`: func(s *specs.LinuxSeccomp) { s.Architectures[1] = "SCMP_ARCH_Z80" },
		`linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO"`:       func(s *specs.LinuxSeccomp) { s.Flags[0] = "SECCOMP_FILTER_FLAG_FOO" },
		`linux.seccomp.syscalls[0].action: unknown action "ALLOW"`:             func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = "ALLOW" },
		`linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO`:              func(s *specs.LinuxSeccomp) { s.Syscalls[0].ErrnoRet = uintp(1) },
		`linux.seccomp.syscalls[1].errnoRet: 65536 does not fit in 16 bits`: func(s *specs.LinuxSeccomp) {
			s.Syscalls[1].Action, s.Syscalls[1].ErrnoRet = specs.ActErrno, uintp(65536)
		},
		`linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_XX"`: func(s *specs.LinuxSeccomp) { s.Syscalls[1].Args[0].Op = "SCMP_CMP_XX" },
		`linux.seccomp.syscalls[1].args[0].index: index 6 out of range`:        func(s *specs.LinuxSeccomp) { s.Syscalls[1].Args[0].Index = 6 },
		`linux.seccomp.syscalls[0].names[1]: empty syscall name`:               func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names[1] = "" },
		`linux.seccomp.syscalls[2].names[0]: SCMP_ACT_NOTIFY cannot be used for the write syscall`: func(s *specs.LinuxSeccomp) {
			s.Syscalls[2].Names[0] = "write"
		},
		`linux.seccomp.listenerPath: must be set when SCMP_ACT_NOTIFY is used`: func(s *specs.LinuxSeccomp) { s.ListenerPath = "" },
	}
	for want, mutate := range cases {
		s := clone(good)
		mutate(s)
		err := Validate(s)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v\nwant prefix %q", err, want)
		}
	}
}

func clone(s *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	c := *s
	c.Architectures = append([]specs.Arch(nil), s.Architectures...)
	c.Flags = append([]specs.LinuxSeccompFlag(nil), s.Flags...)
	c.Syscalls = nil
	for _, sc := range s.Syscalls {
		sc.Names = append([]string(nil), sc.Names...)
		sc.Args = append([]specs.LinuxSeccompArg(nil), sc.Args...)
		c.Syscalls = append(c.Syscalls, sc)
	}
	return &c
}

func TestScmpAction(t *testing.T) {
	a, err := scmpAction(specs.ActErrno, nil)
	if err != nil || a != libseccomp.ActErrno.SetReturnCode(int16(unix.EPERM)) {
		t.Fatalf("errno default: %v %v", a, err)
	}
	a, _ = scmpAction(specs.ActTrace, uintp(38))
	if a.GetReturnCode() != 38 {
		t.Fatalf("trace errnoRet: %v", a)
	}
	if a, _ := scmpAction(specs.ActKill, nil); a != libseccomp.ActKillThread {
		t.Fatalf("SCMP_ACT_KILL must be kill-thread, got %v", a)
	}
}

func TestFilterFlags(t *testing.T) {
	s := &specs.LinuxSeccomp{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagWaitKillableRecv}}
	if got := filterFlags(s, false); got != unix.SECCOMP_FILTER_FLAG_LOG {
		t.Fatalf("without notify: %#x", got)
	}
	want := uint(unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
	if got := filterFlags(s, true); got != want {
		t.Fatalf("with notify: %#x, want %#x", got, want)
	}
	s.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}
	want = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	if got := filterFlags(s, true); got != want {
		t.Fatalf("tsync+notify: %#x, want %#x", got, want)
	}
}

func TestDecodeBPF(t *testing.T) {
	if _, err := decodeBPF(make([]byte, 7)); err == nil {
		t.Fatal("bad length accepted")
	}
	p, err := decodeBPF([]byte{0x06, 0, 1, 2, 0, 0, 0xff, 0x7f})
	if err != nil || len(p) != 1 || p[0].Code != 6 || p[0].Jt != 1 || p[0].Jf != 2 || p[0].K != 0x7fff0000 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestFeaturesAndVersion(t *testing.T) {
	v := Version()
	if strings.Count(v, ".") != 2 {
		t.Fatalf("Version() = %q", v)
	}
	f := GetFeatures()
	if len(f.Actions) != 9 || len(f.Operators) != 7 || len(f.Archs) != 23 || len(f.KnownFlags) != 4 {
		t.Fatalf("features: %+v", f)
	}
	if !Enabled() {
		t.Skip("kernel has no seccomp filter support (seccomp(2) probe failed)")
	}
	found := false
	for _, fl := range f.SupportedFlags {
		if fl == "SECCOMP_FILTER_FLAG_LOG" {
			found = true
		}
	}
	if !found {
		t.Fatalf("SECCOMP_FILTER_FLAG_LOG (Linux 4.14) not supported? %v", f.SupportedFlags)
	}
}

// Every error of Compile names the field once (linux.seccomp...), so that
// its callers (the init, the exec plan) add no prefix of their own.
func TestCompileErrorsNameField(t *testing.T) {
	for _, s := range []*specs.LinuxSeccomp{
		{DefaultAction: "SCMP_ACT_BOGUS"},
		{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_BOGUS"}},
		{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: "SCMP_ACT_BOGUS"}}},
		{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 9, Op: specs.OpEqualTo}}}}},
	} {
		_, err := Compile(s)
		if err == nil {
			t.Errorf("%+v: compiled", s)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "linux.seccomp") || strings.Count(msg, "linux.seccomp") != 1 {
			t.Errorf("%+v: %q: want one linux.seccomp... prefix", s, msg)
		}
	}
}
