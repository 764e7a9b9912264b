//go:build !rtstage

package stagebin

// Binary is empty: rt was built without the rtstage tag.
var Binary []byte
