package engines

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// envConfig is what the environment is built from.
type envConfig struct {
	rtBinary string // the runtime under test
	busybox  string // static busybox for the image
}

// engineEnv is one containerd with the CRI plugin, started with everything
// (config, root, state, sockets, rt state, logs) in a fresh temp dir.
type engineEnv struct {
	cfg      envConfig
	dir      string    // temp dir holding everything
	sock     string    // containerd gRPC socket
	wrapper  string    // logging wrapper named rt that execs cfg.rtBinary
	callLog  string    // one line per runtime CLI call made through the wrapper
	criRoot  string    // BinaryName's Root in the CRI runtime options (state dirs <root>/k8s.io/<id>)
	ctrRoot  string    // --runc-root given to ctr run
	cgParent string    // cgroup parent of the CRI pods (unique to this run)
	ctrNS    string    // containerd namespace of the ctr tests, also their cgroup parent
	bridge   string    // CNI bridge of the pod network test (unique to this run)
	subnet   string    // its host-local IPAM range
	cmd      *exec.Cmd // the containerd process
	exited   chan struct{}

	closing atomic.Bool // set by teardown: no new ctr commands

	idsMu sync.Mutex
	ids   map[string]string // task/sandbox id -> containerd namespace, for shim socket cleanup
	netns []string          // pod network namespaces (bind mounts CRI removes with the pod)
}

const criNamespace = "k8s.io"

func startEngineEnv(cfg envConfig) (*engineEnv, error) {
	dir, err := os.MkdirTemp("", "rt-engines-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	suffix := strings.ToLower(strings.TrimPrefix(filepath.Base(dir), "rt-engines-"))
	e := &engineEnv{
		cfg:      cfg,
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		wrapper:  filepath.Join(dir, "bin", "rt"),
		callLog:  filepath.Join(dir, "rt-calls.log"),
		criRoot:  filepath.Join(dir, "rt-root-cri"),
		ctrRoot:  filepath.Join(dir, "rt-root-ctr"),
		cgParent: "rt-engines-cri-" + suffix,
		ctrNS:    "rt-engines-ctr-" + suffix,
		bridge:   "rtbr" + lastN(suffix, 11),
		ids:      map[string]string{},
	}
	n, _ := strconv.Atoi(lastN(suffix, 4))
	e.subnet = fmt.Sprintf("10.251.%d.0/24", n%250)
	if err := e.start(); err != nil {
		if terr := e.teardown(); terr != nil {
			err = fmt.Errorf("%w (teardown: %v)", err, terr)
		}
		return nil, err
	}
	return e, nil
}

func (e *engineEnv) start() error {
	for _, d := range []string{"bin", "cni", "pod-logs"} {
		if err := os.MkdirAll(filepath.Join(e.dir, d), 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	if err := writeWrapper(e.wrapper, e.cfg.rtBinary, e.callLog); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.dir, "cni", "10-rt-test.conflist"), []byte(e.cniConfig()), 0o644); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}
	archive := filepath.Join(e.dir, "images.tar")
	if err := writeImageArchive(archive, e.cfg.busybox); err != nil {
		return fmt.Errorf("build image archive: %w", err)
	}
	config := filepath.Join(e.dir, "config.toml")
	if err := os.WriteFile(config, []byte(e.containerdConfig()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", config, err)
	}
	logf, err := os.Create(filepath.Join(e.dir, "containerd.log"))
	if err != nil {
		return fmt.Errorf("containerd log: %w", err)
	}
	defer logf.Close()
	e.cmd = exec.Command("containerd", "--config", config)
	e.cmd.Stdout, e.cmd.Stderr = logf, logf
	// containerd dies with the test binary even if teardown never runs
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	e.exited = make(chan struct{})
	go func() { e.cmd.Wait(); close(e.exited) }()
	if err := e.waitReady(30 * time.Second); err != nil {
		return err
	}
	for _, ns := range []string{criNamespace, e.ctrNS} {
		if out, rc, err := e.ctr(60*time.Second, ns, "images", "import", archive); err != nil || rc != 0 {
			return fmt.Errorf("ctr -n %s images import: rc=%d %v: %s", ns, rc, err, out)
		}
	}
	return nil
}

// containerdConfig is a version 2 config: own root, state and sockets; the
// CRI plugin's default runtime is "rt" (runc v2 shim, BinaryName = the
// logging wrapper); the sandbox image is the imported pause image; CNI reads
// an empty conf dir (the pods use the host network, which needs no CNI); the
// streaming server takes a free port on loopback.
func (e *engineEnv) containerdConfig() string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[debug]
  address = %[5]q
  level = "info"
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[6]q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[7]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "rt"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt.options]
        BinaryName = %[8]q
        Root = %[9]q
        SystemdCgroup = false
`, filepath.Join(e.dir, "root"), filepath.Join(e.dir, "state"), e.sock, e.sock+".ttrpc",
		filepath.Join(e.dir, "debug.sock"), pauseImage, filepath.Join(e.dir, "cni"), e.wrapper, e.criRoot)
}

// cniConfig is a bridge network for pods that do not use the host network:
// an L2 bridge without an address (isGateway false: no host route, no IP
// forwarding, no masquerading) and host-local addresses from e.subnet.
func (e *engineEnv) cniConfig() string {
	return fmt.Sprintf(`{"cniVersion": "0.4.0", "name": "rt-test", "plugins": [{"type": "bridge", "bridge": %q,
  "isGateway": false, "ipMasq": false, "hairpinMode": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "dataDir": %q}}]}
`, e.bridge, e.subnet, filepath.Join(e.dir, "cni-ipam"))
}

func lastN(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// writeWrapper writes a shell script that logs each runtime call (the
// arguments on one line) and execs the real runtime: the proof that the
// engine called the binary it was given.
func writeWrapper(path, real, log string) error {
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\nexec '%s' \"$@\"\n", log, real)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write runtime wrapper %s: %w", path, err)
	}
	return nil
}

func (e *engineEnv) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			return fmt.Errorf("containerd exited during startup: %s", e.logTail(20))
		default:
		}
		if _, rc, err := e.ctr(5*time.Second, "default", "version"); err == nil && rc == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("containerd not ready after %v: %s", timeout, e.logTail(20))
}

// ctr runs ctr against this containerd in namespace ns; it returns the
// combined output and exit code. err is set only when ctr could not be run
// or timed out.
func (e *engineEnv) ctr(timeout time.Duration, ns string, args ...string) (string, int, error) {
	if e.closing.Load() {
		return "", -1, fmt.Errorf("ctr %s: environment is being torn down", strings.Join(args, " "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"-a", e.sock, "-n", ns}, args...)
	cmd := exec.CommandContext(ctx, "ctr", full...)
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), -1, fmt.Errorf("ctr %s: timed out after %v", strings.Join(args, " "), timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, fmt.Errorf("ctr %s: %w", strings.Join(args, " "), err)
	}
	return string(out), 0, nil
}

// track records a task id (its shim socket is removed at teardown if the
// shim could not remove it itself).
func (e *engineEnv) track(ns, id string) {
	e.idsMu.Lock()
	e.ids[id] = ns
	e.idsMu.Unlock()
}

// trackNetns records a pod network namespace for teardown.
func (e *engineEnv) trackNetns(path string) {
	e.idsMu.Lock()
	e.netns = append(e.netns, path)
	e.idsMu.Unlock()
}

// runtimeCalls returns the runtime CLI calls logged by the wrapper.
func (e *engineEnv) runtimeCalls() []string {
	b, _ := os.ReadFile(e.callLog)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func (e *engineEnv) logTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "containerd.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shimSocket is where containerd 1.6 puts the shim socket of task id in ns:
// /run/containerd/s/sha256(<grpc address>/<ns>/<id>).
func (e *engineEnv) shimSocket(ns, id string) string {
	sum := sha256.Sum256([]byte(filepath.Join(e.sock, ns, id)))
	return fmt.Sprintf("/run/containerd/s/%x", sum)
}
