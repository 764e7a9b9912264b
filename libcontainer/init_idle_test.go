package libcontainer

import (
	"os"
	"testing"
)

func TestCleanFileMappings(t *testing.T) {
	smaps := `00400000-00402000 r--p 00000000 fe:00 10033155                           /
Rss:                   8 kB
Anonymous:             0 kB
Locked:                0 kB
00402000-00693000 r-xp 00002000 fe:00 10033155                           /usr/bin/x
Anonymous:             0 kB
Swap:                  0 kB
0099e000-009b7000 rw-p 0059d000 fe:00 10033155                           /usr/bin/x
Anonymous:            44 kB
7f44c15ed000-7f44c163d000 rw-p 00000000 00:00 0 
Anonymous:           256 kB
7f4509c44000-7f4509c48000 r--p 001cf000 fe:00 326269                     /usr/lib/libc.so.6
Anonymous:            16 kB
7f4509c48000-7f4509c4a000 r-xp 001d3000 fe:00 326269                     /usr/lib/libc.so.6
Anonymous:             0 kB
Locked:                4 kB
7ffe1000-7ffe3000 r-xp 00000000 00:00 0                                  [vdso]
Anonymous:             0 kB
7f4509c4b000-7f4509c4c000 r-xp 001d3000 fe:00 326269                     /usr/lib/libc.so.6
Anonymous:             0 kB
`
	got := cleanFileMappings([]byte(smaps), make([]mapping, 0, 8))
	want := []mapping{{0x400000, 0x402000}, {0x402000, 0x693000}, {0x7f4509c4b000, 0x7f4509c4c000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
	// The process's own smaps parses, and names at least the test binary.
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip("SKIP: no /proc/self/smaps")
	}
	if m := cleanFileMappings(data, make([]mapping, 0, 256)); len(m) == 0 {
		t.Fatalf("no clean file mapping found in /proc/self/smaps")
	}
}
