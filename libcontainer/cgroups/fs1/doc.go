// Package fs1 is the cgroup v1 manager (runc's "fs" driver): it creates
// the container's cgroup in every mounted v1 hierarchy (and in the empty
// cgroup2 of a hybrid host), moves processes in, writes the limits of an
// OCI LinuxResources to the v1 interface files, freezes, lists pids and
// removes the cgroup again.
package fs1
