package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Syscalls newer than a profile must fail with ENOSYS, not with the
// profile's default errno (often EPERM): libc falls back to an older
// syscall only on ENOSYS (clone3 -> clone, fchmodat2 -> fchmodat, ...).
// As runc's patchbpf does, rt prepends to the compiled filter a check
// that returns ENOSYS for any syscall number above the largest one the
// profile names, per architecture.

// auditArch maps the architectures rt patches to their AUDIT_ARCH_* value.
var auditArch = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchAMD64:   unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchX86:     unix.AUDIT_ARCH_I386,
	libseccomp.ArchARM64:   unix.AUDIT_ARCH_AARCH64,
	libseccomp.ArchARM:     unix.AUDIT_ARCH_ARM,
	libseccomp.ArchPPC64LE: unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchS390X:   unix.AUDIT_ARCH_S390X,
	libseccomp.ArchRISCV64: unix.AUDIT_ARCH_RISCV64,
}

// x32SyscallBit marks x32 syscalls, which share AUDIT_ARCH_X86_64.
const x32SyscallBit = 0x40000000

// needsENOSYSPatch: a profile that allows unknown syscalls, or already
// answers ENOSYS, needs no patch.
func needsENOSYSPatch(s *specs.LinuxSeccomp) bool {
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog:
		return false
	case specs.ActErrno:
		return s.DefaultErrnoRet == nil || *s.DefaultErrnoRet != uint(unix.ENOSYS)
	}
	return true
}

// lastSyscalls returns, per patched architecture of the profile, the
// largest syscall number the profile names.
func lastSyscalls(s *specs.LinuxSeccomp) map[libseccomp.ScmpArch]uint32 {
	arches := []libseccomp.ScmpArch{}
	if native, err := libseccomp.GetNativeArch(); err == nil {
		arches = append(arches, native)
	}
	for _, a := range s.Architectures {
		arches = append(arches, archs[a])
	}
	last := map[libseccomp.ScmpArch]uint32{}
	for _, a := range arches {
		if _, ok := auditArch[a]; !ok {
			continue
		}
		for _, sc := range s.Syscalls {
			for _, name := range sc.Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, a)
				if err != nil || nr < 0 || (a == libseccomp.ArchAMD64 && uint32(nr)&x32SyscallBit != 0) {
					continue
				}
				if uint32(nr) > last[a] {
					last[a] = uint32(nr)
				}
			}
		}
		if _, ok := last[a]; !ok {
			delete(last, a)
		}
	}
	return last
}

// patchENOSYS prepends the ENOSYS check to prog:
//
//	    ld  [arch]
//	    jeq ARCH_1, 0, next_1      ; for each architecture
//	    ld  [nr]
//	    jset x32bit, main, 0       ; (x86_64: leave x32 calls to the filter)
//	    jgt LAST_1, enosys, main
//	next_1: ...
//	    ja  main
//	enosys: ret ERRNO(ENOSYS)
//	main: <the filter>
func patchENOSYS(prog []unix.SockFilter, last map[libseccomp.ScmpArch]uint32) []unix.SockFilter {
	if len(last) == 0 {
		return prog
	}
	type block struct {
		arch uint32
		max  uint32
		x32  bool
	}
	var blocks []block
	// Stable order: by audit arch value.
	for a, max := range last {
		blocks = append(blocks, block{arch: auditArch[a], max: max, x32: a == libseccomp.ArchAMD64})
	}
	for i := range blocks {
		for j := i + 1; j < len(blocks); j++ {
			if blocks[j].arch < blocks[i].arch {
				blocks[i], blocks[j] = blocks[j], blocks[i]
			}
		}
	}
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
	}
	const (
		ldArch = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		offNr  = 0 // offsetof(struct seccomp_data, nr)
		offArc = 4 // offsetof(struct seccomp_data, arch)
	)
	size := func(b block) int {
		if b.x32 {
			return 4
		}
		return 3
	}
	total := 1 // ld [arch]
	for _, b := range blocks {
		total += size(b)
	}
	total += 2 // ja main; ret enosys
	out := make([]unix.SockFilter, 0, total+len(prog))
	out = append(out, stmt(ldArch, offArc))
	pos := 1
	enosysAt := total - 1
	mainAt := total
	for _, b := range blocks {
		n := size(b)
		out = append(out, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, b.arch, 0, uint8(n-1)))
		out = append(out, stmt(ldArch, offNr))
		at := pos + 2
		if b.x32 {
			out = append(out, jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, x32SyscallBit, uint8(mainAt-at-1), 0))
			at++
		}
		out = append(out, jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, b.max, uint8(enosysAt-at-1), uint8(mainAt-at-1)))
		pos += n
	}
	out = append(out, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(mainAt - pos - 1)})
	out = append(out, stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)))
	return append(out, prog...)
}
