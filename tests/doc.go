// Package tests holds the integration test suite that drives the runtime
// binary (rt, or any runc-compatible runtime named by RT_BINARY) through its
// command-line interface and checks the kernel-visible results.
//
// Run as root: go test ./tests/ -count=1
package tests
