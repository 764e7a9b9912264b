package fs2

import "github.com/rt-runtime/rt/libcontainer/cgroups/devices"

// deviceFilter generates the BPF_PROG_TYPE_CGROUP_DEVICE program for p.
// The kernel calls it with a struct bpf_cgroup_dev_ctx {u32 access_type
// (access << 16 | type); u32 major; u32 minor} in R1; it returns 1 to
// allow, 0 to deny. Registers: R2 type, R3 access, R4 major, R5 minor;
// each exception is one block that jumps to the next block on a
// mismatch and otherwise returns the exception's verdict; the last
// block returns the default.
func deviceFilter(p devices.Policy) []insn {
	prog := []insn{
		ldxW(r2, r1, 0),
		andImm32(r2, 0xffff),
		ldxW(r3, r1, 0),
		rshImm32(r3, 16),
		ldxW(r4, r1, 4),
		ldxW(r5, r1, 8),
	}
	verdict := int32(0)
	if !p.DefaultAllow {
		verdict = 1
	}
	for _, e := range p.Exceptions {
		var block []insn
		switch e.Type {
		case 'b':
			block = append(block, jneImm32(r2, int32(devBlock)))
		case 'c':
			block = append(block, jneImm32(r2, int32(devChar)))
		}
		if e.Access != devices.All || p.DefaultAllow {
			block = append(block, movReg32(r1, r3), andImm32(r1, int32(e.Access)))
			if p.DefaultAllow {
				// deny exception: any requested bit in common
				block = append(block, jeqImm(r1, 0))
			} else {
				// allow exception: every requested bit covered
				block = append(block, jneReg(r1, r3))
			}
		}
		if e.Major >= 0 {
			block = append(block, jneImm32(r4, int32(uint32(e.Major))))
		}
		if e.Minor >= 0 {
			block = append(block, jneImm32(r5, int32(uint32(e.Minor))))
		}
		block = append(block, movImm(r0, verdict), exit())
		// Every jump of a block goes to the next block: resolve the
		// offsets (relative to the instruction after the jump).
		for i := range block {
			if isJump(block[i]) {
				block[i].off = int16(len(block) - i - 1)
			}
		}
		prog = append(prog, block...)
	}
	def := int32(0)
	if p.DefaultAllow {
		def = 1
	}
	return append(prog, movImm(r0, def), exit())
}
