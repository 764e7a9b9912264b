package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Program is a seccomp filter compiled to BPF by the parent (libseccomp,
// on the host). The C stage installs it (BPF gives the records and flags:
// nsenter/plan.c), with the notify fd, when Notify, sent back to the
// parent, which hands it to listenerPath (SendNotifyFd).
type Program struct {
	prog   []unix.SockFilter
	flags  uint
	notify bool
}

// Compile validates s and compiles it. A nil s gives a nil Program. Every
// error names the field of the spec (linux.seccomp...): callers add no
// prefix of their own.
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	if s == nil {
		return nil, nil
	}
	if err := Validate(s); err != nil {
		return nil, err
	}
	notify := hasNotify(s)
	if notify {
		if api, _ := libseccomp.GetAPI(); api < 6 {
			return nil, fmt.Errorf("linux.seccomp: notify unsupported: libseccomp API level %d, want at least 6 (libseccomp >= 2.5.0 and Linux >= 5.7)", api)
		}
	}
	filter, err := buildFilter(s)
	if err != nil {
		return nil, err
	}
	defer filter.Release()
	prog, err := exportBPF(filter)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	if needsENOSYSPatch(s) {
		prog = patchENOSYS(prog, lastSyscalls(s))
	}
	return &Program{prog: prog, flags: filterFlags(s, notify), notify: notify}, nil
}

// Notify reports whether the program returns a notify fd when installed
// (SECCOMP_FILTER_FLAG_NEW_LISTENER).
func (p *Program) Notify() bool { return p != nil && p.notify }

// BPF returns the program as raw struct sock_filter records in the host's
// byte order and its seccomp(2) flags, for a process that installs it
// without rt's Go code (the C stage's plan). A nil Program gives nil.
func (p *Program) BPF() (raw []byte, flags uint32) {
	if p == nil {
		return nil, 0
	}
	raw = make([]byte, 0, 8*len(p.prog))
	for _, i := range p.prog {
		raw = binary.NativeEndian.AppendUint16(raw, i.Code)
		raw = append(raw, i.Jt, i.Jf)
		raw = binary.NativeEndian.AppendUint32(raw, i.K)
	}
	return raw, uint32(p.flags)
}

// programMagic starts a stored Program (MarshalBinary); bump it when the
// compilation changes what a profile compiles to.
const programMagic = "rt-seccomp-bpf-1\n"

// MarshalBinary stores p for UnmarshalProgram: a magic line, the 32-byte
// key the caller gives (what p was compiled from), flags (u32 LE), notify
// (one byte), the BPF records in the host's byte order, and the SHA-256 of
// all that (a damaged file must not become a different filter).
func (p *Program) MarshalBinary(key [32]byte) []byte {
	raw, flags := p.BPF()
	out := make([]byte, 0, len(programMagic)+32+5+len(raw))
	out = append(out, programMagic...)
	out = append(out, key[:]...)
	out = binary.LittleEndian.AppendUint32(out, flags)
	notify := byte(0)
	if p.notify {
		notify = 1
	}
	out = append(out, notify)
	out = append(out, raw...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// ErrStaleProgram means a stored program was made from something else
// (another key, format or a damaged file): compile again.
var ErrStaleProgram = errors.New("stored seccomp program is stale or damaged")

// UnmarshalProgram reads what MarshalBinary stored with the same key.
func UnmarshalProgram(data []byte, key [32]byte) (*Program, error) {
	head := len(programMagic) + 32 + 5
	if len(data) <= head+sha256.Size {
		return nil, ErrStaleProgram
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); string(sum[:]) != string(data[len(body):]) {
		return nil, ErrStaleProgram
	}
	data = body
	if len(data) <= head || string(data[:len(programMagic)]) != programMagic ||
		string(data[len(programMagic):len(programMagic)+32]) != string(key[:]) || data[head-1] > 1 {
		return nil, ErrStaleProgram
	}
	prog, err := decodeBPF(data[head:])
	if err != nil || len(prog) > 0xFFFF {
		return nil, ErrStaleProgram
	}
	flags := binary.LittleEndian.Uint32(data[head-5:])
	return &Program{prog: prog, flags: uint(flags), notify: data[head-1] == 1}, nil
}
