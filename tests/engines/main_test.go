package engines

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// skipReason is a missing prerequisite: the tests skip with it as the reason.
type skipReason string

func (r skipReason) Error() string { return string(r) }

var (
	envOnce sync.Once
	envErr  error
	shared  *engineEnv
	envMu   sync.Mutex // guards teardown against a concurrent signal
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "engines: %v: tearing down\n", s)
		teardownShared()
		os.Exit(130)
	}()
	code := m.Run()
	if err := teardownShared(); err != nil {
		fmt.Fprintln(os.Stderr, "engines: teardown:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// engine returns the containerd started for this test binary (started on
// first use, torn down by TestMain), or skips t when a prerequisite is
// missing.
func engine(t *testing.T) *engineEnv {
	t.Helper()
	envOnce.Do(func() {
		var cfg envConfig
		if cfg, envErr = prerequisites(); envErr != nil {
			return
		}
		envMu.Lock()
		defer envMu.Unlock()
		shared, envErr = startEngineEnv(cfg)
	})
	var skip skipReason
	if errors.As(envErr, &skip) {
		t.Skip(string(skip))
	}
	if envErr != nil {
		t.Fatalf("engine environment: %v", envErr)
	}
	return shared
}

func teardownShared() error {
	envMu.Lock()
	defer envMu.Unlock()
	if shared == nil {
		return nil
	}
	err := shared.teardown()
	shared = nil
	return err
}

// prerequisites checks root, the engine binaries and the rt binary. Missing
// engine binaries skip the tests, unless RT_ENGINES_REQUIRED=1 (set by
// `make test-engines`, after setup.sh installed them) makes them an error.
func prerequisites() (envConfig, error) {
	var cfg envConfig
	if os.Geteuid() != 0 {
		return cfg, skipReason("engine tests need root (euid 0) to run containerd")
	}
	required := os.Getenv("RT_ENGINES_REQUIRED") == "1"
	missing := func(what string) error {
		if required {
			return fmt.Errorf("%s not installed although RT_ENGINES_REQUIRED=1 (setup.sh should have installed it)", what)
		}
		return skipReason(what + " not installed (run make test-engines)")
	}
	for _, b := range []string{"containerd", "ctr", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(b); err != nil {
			return cfg, missing("containerd")
		}
	}
	if _, err := exec.LookPath("script"); err != nil {
		return cfg, missing("script (bsdutils)")
	}
	bb, err := findStaticBusybox()
	if err != nil {
		return cfg, missing(fmt.Sprintf("static busybox (busybox-static; %v)", err))
	}
	cfg.busybox = bb
	bin := os.Getenv("RT_BINARY")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "rt")
	}
	if cfg.rtBinary, err = filepath.Abs(bin); err != nil {
		return cfg, fmt.Errorf("resolve runtime binary %q: %w", bin, err)
	}
	st, err := os.Stat(cfg.rtBinary)
	if err != nil {
		return cfg, fmt.Errorf("runtime binary %q not found (run `make build` or set RT_BINARY): %w", cfg.rtBinary, err)
	}
	if st.Mode()&0o111 == 0 {
		return cfg, fmt.Errorf("runtime binary %q is not executable", cfg.rtBinary)
	}
	return cfg, nil
}
