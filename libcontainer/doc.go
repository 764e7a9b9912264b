// Package libcontainer is rt's runtime core: the life of a container
// (Create, Start, Exec, Signal, Pause, Update, Delete), its state under
// the state root, and the container's init process (Init), which is rt
// itself re-executed from a sealed copy of its binary after the C stage
// of package nsenter has joined and created its namespaces.
//
// It makes no assumption about a command line: package cmd/rt turns flags
// into the options here, and everything that touches the kernel lives
// here or below (rootfs, cgroups, capabilities, seccomp, apparmor, system).
// docs/design.md describes the protocol between rt and its init.
package libcontainer
