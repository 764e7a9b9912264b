package hooks

import (
	"encoding/json"
	"errors"
	"github.com/rt-runtime/rt/libcontainer/system"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func testState() *specs.State {
	return &specs.State{
		Version:     specs.Version,
		ID:          "c1",
		Status:      specs.StateCreating,
		Pid:         1234,
		Bundle:      "/b",
		Annotations: map[string]string{"k": "v"},
	}
}

func intp(i int) *int { return &i }

func TestRunOrderStdinArgsEnv(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	h := script(t, dir, "hook", `
echo "$0|$*|$FOO|$HOME" >> "$LOG"
cat > "$LOG.stdin.$1"`)
	env := []string{"FOO=bar", "LOG=" + log}
	hooks := []specs.Hook{
		{Path: h, Args: []string{"argv0", "first", "x y"}, Env: env},
		{Path: h, Args: []string{"other0", "second"}, Env: env},
	}
	if err := Run("createRuntime", hooks, testState()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// $0 is the script path for sh scripts, so argv[0] itself is checked below
	// with a non-script hook; here order, argv[1:] and env are checked. HOME is
	// not set: the environment is exactly Env.
	want := h + "|first x y|bar|\n" + h + "|second|bar|\n"
	if string(data) != want {
		t.Errorf("log = %q, want %q", data, want)
	}
	stdin, err := os.ReadFile(log + ".stdin.first")
	if err != nil {
		t.Fatal(err)
	}
	var got specs.State
	if err := json.Unmarshal(stdin, &got); err != nil {
		t.Fatalf("stdin %q: %v", stdin, err)
	}
	if !reflect.DeepEqual(&got, testState()) {
		t.Errorf("stdin state = %+v", got)
	}
}

func TestRunArgv0(t *testing.T) {
	// bash's -c exposes argv[0] as $0 of the inline script: argv[0] is
	// "bash", so pass it through "exec -a"-free means: run /bin/sh with
	// Args ["custom-name", "-c", "echo $0 > file"] and check $0.
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	hooks := []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "$0" > "$1"`, "myzero", out}}}
	if err := Run("poststart", hooks, testState()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(out); string(data) != "myzero\n" {
		t.Errorf("out = %q", data)
	}

	// The real argv[0] as the kernel sees it, via /proc/self/cmdline.
	hooks = []specs.Hook{{Path: "/bin/sh", Args: []string{"weird-argv0", "-c", `tr '\0' ' ' < /proc/$$/cmdline > "$0"`, out}}}
	if err := Run("poststart", hooks, testState()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(out); !strings.HasPrefix(string(data), "weird-argv0 -c ") {
		t.Errorf("cmdline = %q", data)
	}
}

func TestRunEmptyArgsUsesPath(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	h := script(t, dir, "hook", `tr '\0' ' ' < /proc/$$/cmdline > "$OUT"`)
	if err := Run("prestart", []specs.Hook{{Path: h, Env: []string{"OUT=" + out}}}, testState()); err != nil {
		t.Fatal(err)
	}
	// The kernel runs "/bin/sh <script>" for a #! script: argv[0] was Path.
	if data, _ := os.ReadFile(out); string(data) != "/bin/sh "+h+" " {
		t.Errorf("cmdline = %q", data)
	}
}

func TestRunFailureMessageAndStop(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	hooks := []specs.Hook{
		{Path: "/bin/true"},
		{Path: script(t, dir, "bad", "echo out; echo '  it broke  ' >&2; exit 3")},
		{Path: "/bin/touch", Args: []string{"touch", marker}},
	}
	err := Run("createRuntime", hooks, testState())
	if err == nil {
		t.Fatal("no error")
	}
	want := "createRuntime hook #1 (" + hooks[1].Path + "): exit status 3: it broke"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var he *Error
	var ee *exec.ExitError
	if !errors.As(err, &he) || he.Stdout != "out" || !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("error %#v does not unwrap as expected", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("hook after the failing one ran")
	}
}

func TestRunCannotStart(t *testing.T) {
	err := Run("createContainer", []specs.Hook{{Path: "/nonexistent/hook"}}, testState())
	if err == nil || !strings.HasPrefix(err.Error(), "createContainer hook #0 (/nonexistent/hook): ") ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	start := time.Now()
	err := Run("startContainer", []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: intp(1)}}, testState())
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %v to kill a hook with a 1s timeout", elapsed)
	}
	if !strings.HasPrefix(err.Error(), "startContainer hook #0 (/bin/sleep): hook ran past its timeout of 1s") {
		t.Errorf("error = %q", err)
	}
}

func TestRunTimeoutShellWithChild(t *testing.T) {
	// The shell is killed but its sleep child keeps the output pipes open:
	// Run must still return promptly.
	dir := t.TempDir()
	h := script(t, dir, "hook", "sleep 10; echo done")
	start := time.Now()
	err := Run("prestart", []specs.Hook{{Path: h, Timeout: intp(1)}}, testState())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestRunBackgroundChildIsNotFailure(t *testing.T) {
	dir := t.TempDir()
	h := script(t, dir, "hook", "sleep 5 & exit 0")
	start := time.Now()
	if err := Run("poststart", []specs.Hook{{Path: h}}, testState()); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestRunInvalidTimeout(t *testing.T) {
	err := Run("prestart", []specs.Hook{{Path: "/bin/true", Timeout: intp(0)}}, testState())
	if err == nil || !strings.Contains(err.Error(), "invalid timeout 0") {
		t.Errorf("error = %v", err)
	}
}

func TestRunHookIgnoresStdin(t *testing.T) {
	// A large state that the hook never reads must not make Run fail.
	st := testState()
	st.Annotations["big"] = strings.Repeat("x", 1<<20)
	if err := Run("prestart", []specs.Hook{{Path: "/bin/true"}}, st); err != nil {
		t.Fatal(err)
	}
}

func TestRunOnlyStdioFds(t *testing.T) {
	// rt marks the fds it inherited close-on-exec when it starts; do the
	// same for the fds the test runner inherited.
	if err := system.CloseExecFrom(3); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	f, err := os.Open("/dev/null") // an fd the hook must not inherit
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// After the exec, ls holds fds 0-2 plus the directory it reads (3).
	hook := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `exec ls /proc/self/fd > "$OUT"`}, Env: []string{"OUT=" + out}}
	if err := Run("prestart", []specs.Hook{hook}, testState()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	if got := strings.Fields(string(data)); !reflect.DeepEqual(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("hook fds = %q, want 0 1 2 and ls's own 3", got)
	}
}

func TestRunAllContinues(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	hooks := []specs.Hook{
		{Path: "/bin/false"},
		{Path: "/bin/touch", Args: []string{"touch", marker}},
		{Path: "/nonexistent"},
	}
	err := RunAll("poststop", hooks, testState())
	if err == nil {
		t.Fatal("no error")
	}
	if _, serr := os.Stat(marker); serr != nil {
		t.Error("second hook did not run")
	}
	msg := err.Error()
	if !strings.Contains(msg, "poststop hook #0 (/bin/false): exit status 1") ||
		!strings.Contains(msg, "poststop hook #2 (/nonexistent): ") {
		t.Errorf("error = %q", msg)
	}
	if err := RunAll("poststop", []specs.Hook{{Path: "/bin/true"}}, testState()); err != nil {
		t.Errorf("RunAll with passing hook: %v", err)
	}
}

func TestRunNoHooks(t *testing.T) {
	if err := Run("prestart", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// A hook without a timeout is bounded too: by DefaultTimeout.
func TestRunDefaultTimeout(t *testing.T) {
	old := DefaultTimeout
	DefaultTimeout = 300 * time.Millisecond
	defer func() { DefaultTimeout = old }()
	err := Run("createRuntime", []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "10"}}}, testState())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if !strings.HasPrefix(err.Error(), "createRuntime hook #0 (/bin/sleep): hook ran past its timeout of 300ms (the default: the hook sets none): killed") {
		t.Errorf("error = %q", err)
	}
}
