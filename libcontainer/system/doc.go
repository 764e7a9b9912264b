// Package system holds the process-setup primitives rt's init calls on its
// locked OS thread before execve of the user process (rlimits, personality,
// scheduler, I/O priority, credentials, no_new_privs, fd hygiene, OOM score,
// dumpable), and the create-time validation of their OCI inputs.
package system
