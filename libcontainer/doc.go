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
//
// Parent and init: files named init_*.go hold what runs in `rt init` (the
// container's process before it execs: Init, the rootfs and process set
// up, the init's side of the protocol); every other file runs in rt, the
// parent (the verbs, spawning the init and serving its requests). The
// messages between the two are package initproto; what both sides must
// agree on beyond it (initConfig, hasIDMapMounts) is in spawn.go. The
// parent does not call into init_*.go.
package libcontainer
