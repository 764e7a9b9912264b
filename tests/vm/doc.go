// Package vm holds the tests that need a cgroup v2, AppArmor-enabled
// kernel: they run inside the qemu VM of ../shared/harness/vm (make
// test-v2 builds the payload and starts it), drive bin/rt there and
// check limits, enforcement, update, pause, stats, the eBPF device
// filter and AppArmor. On any other host they skip.
package vm
