package system

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Personality domains (linux/personality.h).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

var personalityDomains = map[specs.LinuxPersonalityDomain]uint32{
	specs.PerLinux:   perLinux,
	specs.PerLinux32: perLinux32,
}

// personalityFlags are the flag bits of personality(2), by macro name. The
// runtime spec defines no flag values yet; rt accepts the kernel's names.
var personalityFlags = map[specs.LinuxPersonalityFlag]uint32{
	"UNAME26":            0x0020000,
	"ADDR_NO_RANDOMIZE":  0x0040000,
	"FDPIC_FUNCPTRS":     0x0080000,
	"MMAP_PAGE_ZERO":     0x0100000,
	"ADDR_COMPAT_LAYOUT": 0x0200000,
	"READ_IMPLIES_EXEC":  0x0400000,
	"ADDR_LIMIT_32BIT":   0x0800000,
	"SHORT_INODE":        0x1000000,
	"WHOLE_SECONDS":      0x2000000,
	"STICKY_TIMEOUTS":    0x4000000,
	"ADDR_LIMIT_3GB":     0x8000000,
}

// personalityValue turns p into the argument of personality(2).
func personalityValue(p *specs.LinuxPersonality) (uint32, error) {
	v, ok := personalityDomains[p.Domain]
	if !ok {
		return 0, fmt.Errorf("linux.personality.domain: unknown domain %q (want LINUX or LINUX32)", p.Domain)
	}
	for i, f := range p.Flags {
		bit, ok := personalityFlags[f]
		if !ok {
			return 0, fmt.Errorf("linux.personality.flags[%d]: unknown flag %q", i, f)
		}
		v |= bit
	}
	return v, nil
}

// PersonalityValue returns personality(2)'s argument for p (validated).
func PersonalityValue(p *specs.LinuxPersonality) (uint32, error) {
	return personalityValue(p)
}

// ValidatePersonality checks linux.personality. A nil p is valid.
func ValidatePersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	_, err := personalityValue(p)
	return err
}
