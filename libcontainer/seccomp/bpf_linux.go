package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// filterFlags computes the seccomp(2) flags for s.
func filterFlags(s *specs.LinuxSeccomp, notify bool) uint {
	var fl uint
	for _, f := range s.Flags {
		fl |= flags[f]
	}
	if notify {
		fl |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if fl&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			// TSYNC and NEW_LISTENER together need TSYNC_ESRCH.
			fl |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	} else if fl&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		// The kernel rejects WAIT_KILLABLE_RECV without a listener; it has no
		// meaning then.
		logrus.Debugf("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no SCMP_ACT_NOTIFY rule")
		fl &^= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	return fl
}

// exportBPF renders filter as a BPF program. libseccomp 2.5 can only export
// to a file descriptor, so a memfd is used.
func exportBPF(filter *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	mfd, err := unix.MemfdCreate("rt-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(mfd), "rt-seccomp-bpf")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("export seccomp filter as BPF: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	return decodeBPF(raw)
}

// decodeBPF parses native-endian struct sock_filter records.
func decodeBPF(raw []byte) ([]unix.SockFilter, error) {
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(raw) == 0 || len(raw)%size != 0 {
		return nil, fmt.Errorf("seccomp BPF program has bad length %d", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/size)
	for i := range prog {
		r := raw[i*size:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(r[0:2]),
			Jt:   r[2],
			Jf:   r[3],
			K:    binary.NativeEndian.Uint32(r[4:8]),
		}
	}
	return prog, nil
}
