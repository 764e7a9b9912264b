package initproto

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzRecv feeds arbitrary bytes, split in arbitrary pieces, to the frame
// decoder: it must never panic or over-allocate, and every frame it
// accepts must be exactly the bytes it consumed.
func FuzzRecv(f *testing.F) {
	f.Add(Encode(Ready, nil), uint8(1))
	f.Add(append(Encode(Config, []byte(`{"exec":true}`)), Encode(Hooks, nil)...), uint8(3))
	f.Add(Encode(Error, []byte("boom")), uint8(0))
	f.Add([]byte{'C', 0xff, 0xff, 0xff, 0x7f}, uint8(2))
	f.Add([]byte{'P', 4, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, piece uint8) {
		sizes := make([]int, len(data)+1)
		for i := range sizes {
			sizes[i] = int(piece)%7 + (i % 3)
		}
		c := &Conn{rw: &chunked{data: append([]byte(nil), data...), sizes: sizes}}
		rest := data
		for {
			m, err := c.Recv()
			if err != nil {
				if len(rest) >= HeaderSize && !errors.Is(err, ErrClosed) && !strings.Contains(err.Error(), "exceeds") {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			enc := Encode(m.Type, m.Payload)
			if !bytes.HasPrefix(rest, enc) {
				t.Fatalf("decoded %s %q is not the input's next %d bytes", m.Type, m.Payload, len(enc))
			}
			rest = rest[len(enc):]
		}
	})
}

// parseBootstrap is the C stage's reading of a Bootstrap frame, in Go, for
// the fuzz target (the C parser itself is tested from package nsenter).
func parseBootstrap(frame []byte) (Type, []string) {
	payload := frame[HeaderSize:]
	var recs []string
	for len(payload) > 0 {
		i := bytes.IndexByte(payload, 0)
		recs = append(recs, string(payload[:i]))
		payload = payload[i+1:]
	}
	return Type(frame[0]), recs
}

// FuzzBootstrapEncode: whatever the paths and offsets, the encoder either
// refuses them or writes records that read back as what was asked.
func FuzzBootstrapEncode(f *testing.F) {
	f.Add(uint64(0x20000), "/proc/1/ns/net", "/var/run/netns/x", true, int64(10), uint32(5))
	f.Add(uint64(0), "", "a\x00b", false, int64(-1), uint32(0))
	f.Fuzz(func(t *testing.T, flags uint64, p1, p2 string, late bool, secs int64, nsecs uint32) {
		b := BootstrapData{
			CloneFlags:  uintptr(flags),
			Joins:       []NsJoin{{Type: 0x40000000, Path: p1}, {Type: 0x20000, Path: p2}},
			LateCgroup:  late,
			NonDumpable: true,
			TimeOffsets: []TimeOffset{{Clock: 7, Secs: secs, Nanosecs: nsecs}, {Clock: 1, Secs: -secs}},
		}
		frame, err := b.Encode()
		if err != nil {
			if p1 != "" && p2 != "" && !strings.ContainsRune(p1+p2, 0) && len(p1)+len(p2) < MaxBootstrapLen-200 {
				t.Fatalf("refused valid input: %v", err)
			}
			return
		}
		typ, recs := parseBootstrap(frame)
		if typ != Bootstrap {
			t.Fatalf("frame type %s", typ)
		}
		want := []string{"j1073741824:" + p1, "j131072:" + p2}
		if late {
			want = append(want, "l")
		}
		want = append(want, "c"+strconv.FormatUint(uint64(uintptr(flags)), 10), "d",
			"t1:"+strconv.FormatInt(-secs, 10)+":0",
			"t7:"+strconv.FormatInt(secs, 10)+":"+strconv.FormatUint(uint64(nsecs), 10))
		if strings.Join(recs, "|") != strings.Join(want, "|") {
			t.Fatalf("records %q, want %q", recs, want)
		}
	})
}
