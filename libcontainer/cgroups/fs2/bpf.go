package fs2

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The few eBPF operations the device policy needs, as raw bpf(2) calls:
// a program of a dozen instruction kinds, loaded, attached to a cgroup,
// queried and detached. (A general eBPF library would add megabytes to a
// binary that every container start executes twice.)

// insn is struct bpf_insn.
type insn struct {
	code uint8
	regs uint8 // dst (low 4 bits), src (high 4 bits)
	off  int16
	imm  int32
}

const (
	r0 = iota
	r1
	r2
	r3
	r4
	r5
)

// Instruction classes and operations (linux/bpf_common.h, linux/bpf.h).
const (
	clsLDX   = 0x01
	clsALU   = 0x04
	clsJMP   = 0x05
	clsJMP32 = 0x06
	clsALU64 = 0x07
	memMEM   = 0x60
	sizeW    = 0x00
	srcK     = 0x00
	srcX     = 0x08
	opAND    = 0x50
	opRSH    = 0x70
	opMOV    = 0xb0
	opJEQ    = 0x10
	opJNE    = 0x50
	opEXIT   = 0x90
)

func ldxW(dst, src uint8, off int16) insn {
	return insn{code: clsLDX | memMEM | sizeW, regs: dst | src<<4, off: off}
}
func andImm32(dst uint8, imm int32) insn {
	return insn{code: clsALU | opAND | srcK, regs: dst, imm: imm}
}
func rshImm32(dst uint8, imm int32) insn {
	return insn{code: clsALU | opRSH | srcK, regs: dst, imm: imm}
}
func movReg32(dst, src uint8) insn { return insn{code: clsALU | opMOV | srcX, regs: dst | src<<4} }
func movImm(dst uint8, imm int32) insn {
	return insn{code: clsALU64 | opMOV | srcK, regs: dst, imm: imm}
}
func exit() insn { return insn{code: clsJMP | opEXIT} }

// Jumps are emitted with off = -1 (meaning "to the end of the block") and
// resolved by the program builder.
func jneImm32(dst uint8, imm int32) insn {
	return insn{code: clsJMP32 | opJNE | srcK, regs: dst, imm: imm, off: -1}
}
func jeqImm(dst uint8, imm int32) insn {
	return insn{code: clsJMP | opJEQ | srcK, regs: dst, imm: imm, off: -1}
}
func jneReg(dst, src uint8) insn {
	return insn{code: clsJMP | opJNE | srcX, regs: dst | src<<4, off: -1}
}

func isJump(i insn) bool {
	c := i.code & 0x07
	return (c == clsJMP || c == clsJMP32) && i.code&0xf0 != opEXIT
}

// bpf calls bpf(2) with the attribute struct attr.
func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// loadDeviceProgram loads insns as a BPF_PROG_TYPE_CGROUP_DEVICE program
// and returns its fd. The verifier's log is part of the error.
func loadDeviceProgram(insns []insn) (int, error) {
	license := []byte("Apache\x00")
	log := make([]byte, 64<<10)
	attr := struct {
		progType    uint32
		insnCnt     uint32
		insns       uint64
		license     uint64
		logLevel    uint32
		logSize     uint32
		logBuf      uint64
		kernVersion uint32
		progFlags   uint32
		progName    [16]byte
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: 1,
		logSize:  uint32(len(log)),
		logBuf:   uint64(uintptr(unsafe.Pointer(&log[0]))),
	}
	copy(attr.progName[:], "rt_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		if n := indexNUL(log); n > 0 {
			return -1, fmt.Errorf("%w: verifier: %s", err, log[:n])
		}
		return -1, err
	}
	return fd, nil
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

type attachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// attachDeviceProgram attaches prog to the cgroup cg (BPF_F_ALLOW_MULTI).
func attachDeviceProgram(cg, prog int) error {
	attr := attachAttr{targetFd: uint32(cg), attachBpfFd: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI}
	_, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// detachDeviceProgram detaches prog from the cgroup cg.
func detachDeviceProgram(cg, prog int) error {
	attr := attachAttr{targetFd: uint32(cg), attachBpfFd: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE}
	_, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// attachedDevicePrograms returns fds of the device programs attached to
// the cgroup itself (not inherited). The caller closes them.
func attachedDevicePrograms(cg int) ([]int, error) {
	ids := make([]uint32, 64)
	attr := struct {
		targetFd    uint32
		attachType  uint32
		queryFlags  uint32
		attachFlags uint32
		progIDs     uint64
		progCnt     uint32
		_           uint32
	}{targetFd: uint32(cg), attachType: unix.BPF_CGROUP_DEVICE,
		progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(len(ids))}
	if _, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return nil, fmt.Errorf("query attached device programs: %w", err)
	}
	var fds []int
	for _, id := range ids[:attr.progCnt] {
		get := struct {
			progID    uint32
			nextID    uint32
			openFlags uint32
		}{progID: id}
		fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // detached meanwhile
			}
			for _, f := range fds {
				unix.Close(f)
			}
			return nil, fmt.Errorf("open attached device program %d: %w", id, err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}
