package libcontainer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
)

// slowState is state.json decoded by encoding/json, the reference.
func slowState(data []byte) (State, error) {
	var f stateFileContents
	err := json.Unmarshal(data, &f)
	return f.State, err
}

// checkFast decodes data both ways: where the fast decoder accepts it, the
// result must be encoding/json's (which must accept it too).
func checkFast(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := decodeStateFast(data)
	if !ok {
		return false
	}
	slow, err := slowState(data)
	if err != nil {
		t.Fatalf("fast decoder accepted %q, encoding/json: %v", data, err)
	}
	if !reflect.DeepEqual(fast, slow) || !fast.Created.Equal(slow.Created) {
		t.Fatalf("decode %q:\nfast %+v\njson %+v", data, fast, slow)
	}
	return true
}

func TestDecodeStateFastMatchesJSON(t *testing.T) {
	full := State{
		ID: "c1", InitPid: 4242, InitStart: 1832804, Creating: true,
		Created:       time.Date(2026, 11, 30, 22, 48, 9, 706749375, time.UTC),
		Owner:         "root",
		CgroupPaths:   map[string]string{"": "/sys/fs/cgroup/unified/c1", "freezer": "/sys/fs/cgroup/freezer/c1", "name=systemd": "/sys/fs/cgroup/systemd/c1"},
		SystemdCgroup: "system.slice:rt:c1",
		Bundle:        "/b/ü", Rootfs: "/b/rootfs",
		Annotations: map[string]string{"a": "b", "k.io/x": ""},
	}
	for _, s := range []State{{}, {ID: "x"}, full, {ID: "y", Created: time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))}} {
		data, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		if !checkFast(t, data) {
			t.Errorf("fast decoder refused what rt writes: %s", data)
		}
	}
	// Accepted, and the same as encoding/json's.
	for _, in := range []string{
		` { "id" : "a" ,"init_pid":-1, "creating":false } `,
		`{"cgroup_paths":{},"annotations":{"a":"1"},"annotations":{"b":"2"}}`,
		`{"id":"a","id":"b","init_start":18446744073709551615}`,
		`{"created":"2026-11-30T22:48:09+02:00"}`,
		`{"id":"a\"b"}`, `{"id":"\u00e9\ud83d\ude00"}`, `{"annotations":null}`, `{"created":null,"init_pid":null}`,
	} {
		if !checkFast(t, []byte(in)) {
			t.Errorf("fast decoder refused %s", in)
		}
	}
	// Left to encoding/json: unknown keys (an older rt's config,
	// intel_rdt), other cases of a key, non-integers, bad UTF-8, a lone
	// surrogate, trailing data, bad times, overflow.
	legacy, _ := json.Marshal(&stateFileContents{State: State{ID: "l"}, LegacyConfig: &configs.Config{Bundle: "/b"}})
	rdt, _ := json.Marshal(&State{ID: "r", IntelRdt: &intelrdt.Group{Path: "/sys/fs/resctrl/r"}})
	for _, in := range []string{
		string(legacy), string(rdt),
		`{"ID":"a"}`, `{"id":"\ud800"}`,
		`{"init_pid":1.5}`, `{"init_pid":1e3}`, `{"init_pid":01}`, `{"init_start":-1}`,
		"{\"id\":\"\xff\"}", `{"id":"a"} x`, `{"id":"a"`, `{"created":"yesterday"}`,
		`{"init_pid":99999999999999999999}`, `{"id":"a",}`, `[]`, ``, "{\"id\":\"a\tb\"}",
	} {
		if checkFast(t, []byte(in)) {
			t.Errorf("fast decoder accepted %q, meant for encoding/json", in)
		}
	}
}

// readState decodes states the fast decoder leaves to encoding/json the same
// way as before: an older rt's state.json with the config inside.
func TestReadStateFallsBack(t *testing.T) {
	dir := t.TempDir()
	data, _ := json.Marshal(&stateFileContents{State: State{ID: "l", InitPid: 3}, LegacyConfig: &configs.Config{Bundle: "/b", Rootfs: "/b/r"}})
	if err := os.WriteFile(filepath.Join(dir, stateFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := readState(dir)
	if err != nil || st.InitPid != 3 || st.Bundle != "/b" || st.Rootfs != "/b/r" || st.Config == nil {
		t.Fatalf("readState = %+v, %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(`{"id":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(dir); err == nil {
		t.Fatal("readState of a torn state.json: no error")
	}
}

func FuzzDecodeStateFast(f *testing.F) {
	s := State{ID: "c1", InitPid: 1, InitStart: 2, Created: time.Unix(1, 2).UTC(), Owner: "root",
		CgroupPaths: map[string]string{"": "/x"}, Bundle: "/b", Annotations: map[string]string{"a": "b"}}
	data, _ := json.Marshal(&s)
	f.Add(data)
	f.Add([]byte(`{"id":"a","creating":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}

// TestDecodeStateFastKeepsBufferOnStack: decodeStateFast must not make its
// input escape, or readState's buffer (on the stack, one per container of
// a `list`) moves to the heap: a 4 KiB allocation per container, 600 more
// page faults and ~5 ms for `list` of 1000 (a callback given slices of the
// document did that). Decoding from a stack buffer allocates no more than
// decoding from a heap one.
func TestDecodeStateFastKeepsBufferOnStack(t *testing.T) {
	data, err := json.Marshal(&State{ID: "c1", InitPid: 42, Created: time.Now().UTC(),
		CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, Annotations: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	heap := append([]byte(nil), data...)
	fromHeap := testing.AllocsPerRun(50, func() {
		if _, ok := decodeStateFast(heap); !ok {
			t.Fatal("refused")
		}
	})
	fromStack := testing.AllocsPerRun(50, func() {
		var buf [4096]byte
		n := copy(buf[:], data)
		if _, ok := decodeStateFast(buf[:n]); !ok {
			t.Fatal("refused")
		}
	})
	if fromStack > fromHeap {
		t.Errorf("decoding from a stack buffer allocates %.0f times, from the heap %.0f: the input escapes", fromStack, fromHeap)
	}
}

// encodeState writes what json.Marshal writes, for any strings (escapes,
// invalid UTF-8, HTML characters), maps, times and the optional members.
func FuzzEncodeState(f *testing.F) {
	f.Add("c1", "root", "/sys/fs/cgroup/cpu/c1", "/b", "a=b", uint64(7), int64(1700000000), uint32(0), true)
	f.Add("x<y>&\"\\\n\t\b\f\x01", "\u2028\u2029é\xff", "\x7f", "", "k\x00=v", uint64(0), int64(-62135596800), uint32(999999999), false)
	f.Fuzz(func(t *testing.T, id, owner, path, bundle, ann string, start uint64, sec int64, nsec uint32, creating bool) {
		s := &State{
			ID: id, InitPid: int(start % 1000000), InitStart: start, Creating: creating,
			Created: time.Unix(sec%(400*365*86400), int64(nsec%1000000000)).UTC(), Owner: owner,
			Bundle: bundle, Rootfs: path,
		}
		if nsec%3 == 0 {
			s.Created = s.Created.In(time.FixedZone("", int(sec%50000)))
		}
		if path != "" {
			s.CgroupPaths = map[string]string{"cpu": path, owner: id, "": bundle}
		}
		if k, v, ok := strings.Cut(ann, "="); ok {
			s.Annotations = map[string]string{k: v, v: k}
		}
		if creating {
			s.SystemdCgroup = ann
			s.IntelRdt = &intelrdt.Group{Path: path, Created: start%2 == 0, MonPath: owner}
		}
		want, werr := json.Marshal(s)
		got, gerr := encodeState(s)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("encodeState: error %v, json.Marshal's %v", gerr, werr)
		}
		if !bytes.Equal(got, want) {
			// Invalid UTF-8 becomes U+FFFD, written as such or escaped
			// (encoding/json without jsonv2): the same once read back.
			gs, gerr := slowState(got)
			ws, _ := slowState(want)
			if gerr != nil || utf8.ValidString(id+owner+path+bundle+ann) || !reflect.DeepEqual(gs, ws) {
				t.Fatalf("encodeState:\n got %s\nwant %s", got, want)
			}
		}
	})
}
