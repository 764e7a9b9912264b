//go:build rtstage

package stagebin

import _ "embed" // the program's bytes

// Binary is the static rt-stage program (make build copies it here).
//
//go:embed rt-stage
var Binary []byte
