package libcontainer

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"
)

// releaseIdleMemory shrinks the init before it waits for `rt start`, which
// may be a long time away (an engine creates containers ahead of starting
// them). The pages of rt's binary (and of its libraries) mapped while
// setting up are clean, read-only file pages that stay in the page cache
// (charged to whoever read them first, not to this container), but they
// count in the init's RSS and page tables. Their page table entries are
// dropped (MADV_DONTNEED); what the init touches after start faults back
// in from the page cache. Only mappings without a private (copied-on-write)
// page are touched, so nothing is lost: a relocated RELRO page of a
// library, for one, keeps its mapping. Best effort: any failure leaves the
// memory where it was.
//
// It allocates nothing on the Go heap (the init runs with GOGC=off: every
// allocation would stay).
func releaseIdleMemory() {
	fd, err := unix.Open("/proc/self/smaps", unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		return
	}
	n := 0
	for n < len(smapsBuf) {
		m, err := unix.Read(fd, smapsBuf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n == len(smapsBuf) {
		return // more mappings than expected: leave them
	}
	maps := cleanFileMappings(smapsBuf[:n], idleMaps[:0])
	for _, m := range maps {
		// (The raw call: these are addresses, not a Go slice.)
		unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED)
	}
}

// Static buffers (bss), so that releaseIdleMemory does not grow the heap.
var (
	smapsBuf [256 << 10]byte
	idleMaps [256]mapping
)

type mapping struct{ start, end uintptr }

// cleanFileMappings parses smaps into out (up to its capacity): the
// mappings backed by a file (inode not 0), readable and not writable, with
// no anonymous, locked or swapped page.
func cleanFileMappings(smaps []byte, out []mapping) []mapping {
	var (
		cur       mapping
		candidate bool
	)
	flush := func() {
		if candidate && len(out) < cap(out) {
			out = append(out, cur)
		}
		candidate = false
	}
	for len(smaps) > 0 {
		line := smaps
		if i := bytes.IndexByte(smaps, '\n'); i >= 0 {
			line, smaps = smaps[:i], smaps[i+1:]
		} else {
			smaps = nil
		}
		start, rest, ok := hexField(line, '-')
		if ok {
			// A mapping header: start-end perms offset dev inode [path].
			flush()
			end, rest, ok2 := hexField(rest, ' ')
			perms, rest := field(rest)
			_, rest = field(rest) // offset
			_, rest = field(rest) // dev
			inode, _ := field(rest)
			candidate = ok2 && end > start && len(perms) == 4 && perms[0] == 'r' && perms[1] == '-' &&
				len(inode) > 0 && !(len(inode) == 1 && inode[0] == '0')
			cur = mapping{uintptr(start), uintptr(end)}
			continue
		}
		if !candidate {
			continue
		}
		// Any copied-on-write, locked or swapped page keeps the mapping.
		for _, k := range [...]string{"Anonymous:", "Locked:", "Swap:"} {
			if bytes.HasPrefix(line, []byte(k)) {
				v, _ := field(line[len(k):])
				if len(v) != 1 || v[0] != '0' {
					candidate = false
				}
			}
		}
	}
	flush()
	return out
}

// hexField parses the hex number that starts b and ends at sep.
func hexField(b []byte, sep byte) (uint64, []byte, bool) {
	var v uint64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c == sep && i > 0:
			return v, b[i+1:], true
		default:
			return 0, nil, false
		}
		if i >= 16 {
			return 0, nil, false
		}
	}
	return 0, nil, false
}

// field returns the first space-separated field of b and what follows.
func field(b []byte) ([]byte, []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i:]
}
