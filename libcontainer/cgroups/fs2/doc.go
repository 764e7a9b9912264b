// Package fs2 is rt's cgroup v2 (unified hierarchy) manager: one
// directory under /sys/fs/cgroup per container, controllers enabled in
// every ancestor's cgroup.subtree_control, limits written to the v2
// interface files (memory.max, cpu.max, io.max, ...), device rules as an
// eBPF program attached to the cgroup, and freezing through
// cgroup.freeze. Package cgroups picks it when /sys/fs/cgroup is a
// cgroup2 mount.
package fs2
