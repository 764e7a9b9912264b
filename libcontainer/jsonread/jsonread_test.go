package jsonread

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStrLikeEncodingJSON: a string Str reads is the one encoding/json
// reads; what encoding/json refuses or would repair, Str gives up on.
func TestStrLikeEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `""`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`,
		`"\ud800"`, `"\udc00\ud800"`, `"\u12"`, `"\x"`, "\"a\tb\"", "\"\xff\"", `"open`, `null`, `1`,
	} {
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		var got string
		d := New([]byte(in))
		ok := d.Str(&got) && d.End()
		switch {
		case ok && werr != nil:
			t.Errorf("Str(%s) accepted what encoding/json refuses: %v", in, werr)
		case ok && got != want:
			t.Errorf("Str(%s) = %q, encoding/json %q", in, got, want)
		}
	}
	// The forms encoding/json repairs (U+FFFD) are given up on.
	for _, in := range []string{`"\ud800"`, "\"\xff\""} {
		var s string
		if New([]byte(in)).Str(&s) {
			t.Errorf("Str(%s) = %q, want a give-up", in, s)
		}
	}
}

// TestNumbersLikeEncodingJSON: Int and Uint read what encoding/json reads
// into the type of that size, and give up on the rest.
func TestNumbersLikeEncodingJSON(t *testing.T) {
	for _, in := range []string{`0`, `-0`, `42`, `-1`, `127`, `128`, `-129`, `65535`, `65536`, `1.0`, `1e2`, `01`, `-`, `9223372036854775808`, `18446744073709551615`, `null`} {
		var i8 int8
		werr := json.Unmarshal([]byte(in), &i8)
		d := New([]byte(in))
		n, null, ok := d.Int(8)
		ok = ok && d.End()
		if ok && werr != nil {
			t.Errorf("Int(8, %s) accepted what encoding/json refuses: %v", in, werr)
		}
		if ok && !null && int8(n) != i8 {
			t.Errorf("Int(8, %s) = %d, encoding/json %d", in, n, i8)
		}
		var u16 uint16
		werr = json.Unmarshal([]byte(in), &u16)
		d = New([]byte(in))
		u, null, ok := d.Uint(16)
		ok = ok && d.End()
		if ok && werr != nil {
			t.Errorf("Uint(16, %s) accepted what encoding/json refuses: %v", in, werr)
		}
		if ok && !null && uint16(u) != u16 {
			t.Errorf("Uint(16, %s) = %d, encoding/json %d", in, u, u16)
		}
	}
}

// TestSkipOnlyValid: a document Skip reads whole is valid JSON, and a
// nesting past maxSkipDepth is given up on.
func TestSkipOnlyValid(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"a":[1,-2.5e+3,true,false,null,"x",{"b":{}}]}`, ` [ 1 , 2 ] `,
		`{"a":}`, `[1,]`, `{"a" 1}`, `tru`, `nul`, `01`, `1.`, `-`, `"a`, `{"a":1}}`, `[`, ``,
	} {
		d := New([]byte(in))
		if d.Skip() && d.End() && !json.Valid([]byte(in)) {
			t.Errorf("Skip read %q whole, which is not valid JSON", in)
		}
	}
	deep := make([]byte, 0, 2*maxSkipDepth+2)
	for i := 0; i <= maxSkipDepth; i++ {
		deep = append(deep, '[')
	}
	for i := 0; i <= maxSkipDepth; i++ {
		deep = append(deep, ']')
	}
	if New(deep).Skip() {
		t.Errorf("Skip read a nesting of %d", maxSkipDepth+1)
	}
}

// TestUnknownGivesUpOnNearNames: a name that encoding/json might match to
// a field (case-insensitively, or without dashes and underscores) is given
// up on; another is skipped.
func TestUnknownGivesUpOnNearNames(t *testing.T) {
	names := []string{"ociVersion", "cgroupsPath"}
	for key, skip := range map[string]bool{"OCIVERSION": false, "cgroups_path": false, "cgroups-Path": false, "other": true} {
		d := New([]byte(`1`))
		if got := d.Unknown([]byte(key), names); got != skip {
			t.Errorf("Unknown(%q) = %v, want %v", key, got, skip)
		}
	}
}

// TestMembers: the iterator gives each name in order, OK at the object's
// end, and gives up (OK false) on what is not an object.
func TestMembers(t *testing.T) {
	for in, want := range map[string]string{
		`{}`: "|ok", ` {"a":1, "b\u00e9":"x"} `: "a,bé|ok", `{"a":1,}`: "a|fail", `{"a" 1}`: "|fail",
		`[]`: "|fail", `{"a":1 "b":2}`: "a|fail",
	} {
		d := New([]byte(in))
		m := d.Members()
		var keys []string
		for key, more := m.Next(); more; key, more = m.Next() {
			keys = append(keys, string(key))
			if !d.Skip() {
				break
			}
		}
		got := strings.Join(keys, ",") + "|fail"
		if m.OK() {
			got = strings.Join(keys, ",") + "|ok"
		}
		if got != want {
			t.Errorf("Members(%s) = %s, want %s", in, got, want)
		}
	}
}
