package fs2

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// deviceFilter generates the BPF_PROG_TYPE_CGROUP_DEVICE program for p.
// The kernel calls it with a struct bpf_cgroup_dev_ctx {u32 access_type
// (access << 16 | type); u32 major; u32 minor} in R1; it returns 1 to
// allow, 0 to deny. Registers: R2 type, R3 access, R4 major, R5 minor;
// each exception is one block that jumps to the next block on a
// mismatch and otherwise returns the exception's verdict; the last
// block returns the default.
func deviceFilter(p deviceRules) asm.Instructions {
	insts := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm32(asm.R2, 0xffff),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
	}
	verdict := int32(0)
	if !p.defaultAllow {
		verdict = 1
	}
	for i, e := range p.exceptions {
		next := fmt.Sprintf("rule%d", i+1)
		var block asm.Instructions
		switch e.typ {
		case 'b':
			block = append(block, asm.JNE.Imm32(asm.R2, int32(devBlock), next))
		case 'c':
			block = append(block, asm.JNE.Imm32(asm.R2, int32(devChar), next))
		}
		if e.access != accAll || p.defaultAllow {
			block = append(block,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, int32(e.access)),
			)
			if p.defaultAllow {
				// deny exception: any requested bit in common
				block = append(block, asm.JEq.Imm(asm.R1, 0, next))
			} else {
				// allow exception: every requested bit covered
				block = append(block, asm.JNE.Reg(asm.R1, asm.R3, next))
			}
		}
		if e.major >= 0 {
			block = append(block, asm.JNE.Imm32(asm.R4, int32(uint32(e.major)), next))
		}
		if e.minor >= 0 {
			block = append(block, asm.JNE.Imm32(asm.R5, int32(uint32(e.minor)), next))
		}
		block = append(block, asm.Mov.Imm(asm.R0, verdict), asm.Return())
		if i > 0 {
			block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		}
		insts = append(insts, block...)
	}
	def := int32(0)
	if p.defaultAllow {
		def = 1
	}
	last := asm.Mov.Imm(asm.R0, def)
	if n := len(p.exceptions); n > 0 {
		last = last.WithSymbol(fmt.Sprintf("rule%d", n))
	}
	return append(insts, last, asm.Return())
}
