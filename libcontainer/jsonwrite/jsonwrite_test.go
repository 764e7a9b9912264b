package jsonwrite

import (
	"encoding/json"
	"testing"
)

// String writes what json.Marshal writes for a string (valid UTF-8; the
// generated encoders' tests compare whole documents).
func TestStringLikeMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "\x00\x01\x1f\x7f\b\f\n\r\t\\", "é\u2028\u2029😀\ufffd"} {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
}

// Map sorts the keys, and writes nil as null (as Marshal does).
func TestMapAndSlice(t *testing.T) {
	m := map[string]int{"b": 2, "a": 1, "<": 0}
	want, _ := json.Marshal(m)
	if got := Map(nil, m, IntOf[int]); string(got) != string(want) {
		t.Errorf("Map = %s, want %s", got, want)
	}
	var nilMap map[string]int
	var nilSlice []string
	if got := string(Map(nil, nilMap, IntOf[int])) + string(Slice(nil, nilSlice, StringOf[string])); got != "nullnull" {
		t.Errorf("nil map and slice: %s", got)
	}
	if got := Slice(nil, []string{}, StringOf[string]); string(got) != "[]" {
		t.Errorf("empty slice: %s", got)
	}
}
