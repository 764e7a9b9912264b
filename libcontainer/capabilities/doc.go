// Package capabilities resolves and validates OCI capability names: the
// parent resolves the five sets to masks for the process plan (New), which
// the C stage (nsenter/plan.c) applies just before execve.
package capabilities
