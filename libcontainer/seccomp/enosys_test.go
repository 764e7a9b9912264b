package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// runBPF interprets the classic BPF instructions a seccomp filter uses
// (ld abs, jumps with K, ja, ret K) on a seccomp_data of (nr, arch).
func runBPF(t *testing.T, prog []unix.SockFilter, nr, arch uint32) uint32 {
	t.Helper()
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case 0:
				acc = nr
			case 4:
				acc = arch
			default:
				acc = 0 // args, instruction pointer: 0 here
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch in.Code & 0xf0 {
			case unix.BPF_JEQ:
				cond = acc == in.K
			case unix.BPF_JGT:
				cond = acc > in.K
			case unix.BPF_JGE:
				cond = acc >= in.K
			case unix.BPF_JSET:
				cond = acc&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		default:
			t.Fatalf("instruction %d: opcode %#x not interpreted", pc, in.Code)
		}
	}
	t.Fatal("program fell off its end")
	return 0
}

func TestENOSYSPatch(t *testing.T) {
	eperm := uint(unix.EPERM)
	s := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eperm,
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "getpid", "openat"}, Action: specs.ActAllow},
		},
	}
	if !needsENOSYSPatch(s) {
		t.Fatal("an EPERM-default profile needs the patch")
	}
	prog, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	last := lastSyscalls(s)
	openat, _ := libseccomp.GetSyscallFromNameByArch("openat", libseccomp.ArchAMD64)
	if last[libseccomp.ArchAMD64] != uint32(openat) {
		t.Fatalf("last x86_64 syscall %d, want openat (%d)", last[libseccomp.ArchAMD64], openat)
	}
	const (
		allow  = unix.SECCOMP_RET_ALLOW
		enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
		epermR = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	getpid, _ := libseccomp.GetSyscallFromNameByArch("getpid", libseccomp.ArchAMD64)
	mkdir, _ := libseccomp.GetSyscallFromNameByArch("mkdir", libseccomp.ArchAMD64)
	for _, tc := range []struct {
		name     string
		nr, arch uint32
		want     uint32
	}{
		{"allowed syscall", uint32(getpid), unix.AUDIT_ARCH_X86_64, allow},
		{"older syscall not allowed: the profile's errno", uint32(mkdir), unix.AUDIT_ARCH_X86_64, epermR},
		{"newer than the profile: ENOSYS", uint32(openat) + 1, unix.AUDIT_ARCH_X86_64, enosys},
		{"far newer: ENOSYS", 460, unix.AUDIT_ARCH_X86_64, enosys},
		{"i386, newer: ENOSYS", 450, unix.AUDIT_ARCH_I386, enosys},
	} {
		if got := runBPF(t, prog.prog, tc.nr, tc.arch); got != tc.want {
			t.Errorf("%s (nr %d): %#x, want %#x", tc.name, tc.nr, got, tc.want)
		}
	}
	// An x32 call (no x32 in the profile) is left to libseccomp's filter,
	// which treats it as a bad architecture: never ENOSYS from the patch.
	if got := runBPF(t, prog.prog, 0x40000000|460, unix.AUDIT_ARCH_X86_64); got == enosys {
		t.Errorf("x32 call answered ENOSYS by the patch")
	}
	// Allow-by-default and ENOSYS-by-default profiles are left alone.
	enosysRet := uint(unix.ENOSYS)
	for _, p := range []*specs.LinuxSeccomp{
		{DefaultAction: specs.ActAllow},
		{DefaultAction: specs.ActErrno, DefaultErrnoRet: &enosysRet},
	} {
		if needsENOSYSPatch(p) {
			t.Errorf("profile %+v patched", p)
		}
	}
}
