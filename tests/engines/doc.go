// Package engines holds end-to-end tests of containerd 1.6 driving the rt
// binary, with one containerd started by the test binary (its config, root,
// state, sockets and rt state in a fresh temp dir):
//
//   - through the CRI API (k8s.io/cri-api v1 over gRPC, as the kubelet does),
//     runtime handler "rt" = the runc v2 shim with BinaryName rt: a
//     host-network pod (exec, stats, memory limit, stop/remove, exit code,
//     container log) and a pod with its own network namespace from CNI
//     (bridge + host-local) and hostname;
//   - through containerd's own API with ctr (--runc-binary rt): run --rm,
//     exit codes, exec (also with a TTY via script(1)), pause/resume, kill
//     and a memory limit read back from the cgroup.
//
// rt is handed to the engine as a logging wrapper script; the tests check
// its call log and rt's state dirs to prove rt ran the containers.
//
// Entry point: `make test-engines` (setup.sh installs containerd, the CNI
// plugins and busybox-static when missing, and RT_ENGINES_REQUIRED=1 turns a
// missing prerequisite into a failure). Under plain `go test ./tests/...`
// the tests skip with a printed reason when not root or containerd is not
// installed. RT_BINARY names the runtime (default ../../bin/rt); KEEP_TMP=1
// keeps the temp dir (containerd.log, rt-calls.log) after the run.
//
// Teardown (also on SIGINT/SIGTERM) removes the pods and containers through
// the APIs, stops containerd, kills processes started under the temp dir and
// anything left in this run's cgroups, removes the cgroups, the CNI bridge,
// pod network namespaces, mounts and the temp dir.
package engines
