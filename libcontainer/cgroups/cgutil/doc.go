// Package cgutil holds the cgroup helpers shared by the cgroup managers
// (fs1 for cgroup v1, fs2 for cgroup v2): the sentinel errors, cgroupfs
// file access, parsing of /proc/self/mountinfo and /proc/<pid>/cgroup,
// path cleaning and pid listing. It imports no manager, so every manager
// and the chooser package cgroups can import it.
package cgutil
