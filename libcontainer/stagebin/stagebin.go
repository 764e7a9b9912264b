// Package stagebin holds cmd/rt-stage, rt's C stage built as a small
// static program, when rt is built with the rtstage tag (make build does,
// where musl-gcc is installed): rt exec runs it from a sealed memfd
// instead of re-executing rt's own binary (see libcontainer's stageExe).
// Without the tag, Binary is empty and rt exec re-executes rt.
package stagebin
