// Package capabilities resolves OCI capability names and applies the five
// capability sets to the calling OS thread, as rt's init does just before
// execve: ApplyBoundingSet first (needs CAP_SETPCAP), then ChangeUser (the
// user switch with PR_SET_KEEPCAPS, then ApplyCaps).
package capabilities
