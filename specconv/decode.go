package specconv

//go:generate go run ./internal/gendecode/gen

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/jsonread"
)

// decodeSpec decodes a config.json without reflection (decode_gen.go),
// as encoding/json would, when it can: ok false means it gave up (on
// malformed JSON, a type mismatch, a name that matches a field only
// case-insensitively, a duplicate name, invalid UTF-8, another platform's
// section...), and the caller decodes with encoding/json, which gives the
// same result or error as before. encoding/json's first decode of a Spec
// spends 0.5-0.8 ms setting up its types by reflection; this takes
// 0.05 ms (docs/design.md, "The parent's own work").
// FuzzDecodeSpec holds the two to the same result.
func decodeSpec(data []byte) (*specs.Spec, bool) {
	d := jsonread.New(data)
	if d.Peek() != '{' {
		return nil, false
	}
	var s specs.Spec
	if !decSpec(d, &s) || !d.End() {
		return nil, false
	}
	return &s, true
}
