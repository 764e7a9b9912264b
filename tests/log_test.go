package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// logLines runs the runtime with --log F --log-format json and returns the
// JSON lines of F.
func logLines(t *testing.T, args ...string) ([]map[string]any, int) {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "log.json")
	_, _, code := rt(t, append([]string{"--log", logFile, "--log-format", "json"}, args...)...)
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(readFileOrEmpty(logFile)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out, code
}

func TestLogJSONErrors(t *testing.T) {
	// A missing container: one error line with runc's text.
	lines, code := logLines(t, "state", "no-such-container")
	if code == 0 || len(lines) != 1 || lines[0]["level"] != "error" || lines[0]["msg"] != "container does not exist" || lines[0]["time"] == nil {
		t.Errorf("state of a missing container: exit %d, log %v", code, lines)
	}
	// An error from inside the container's init reaches the log too.
	b := newBundle(t, withArgs("/no/such/program"))
	lines, code = logLines(t, "run", "--bundle", b.Dir, newID(t))
	if code == 0 || len(lines) != 1 || lines[0]["level"] != "error" || !strings.Contains(lines[0]["msg"].(string), "no such file or directory") {
		t.Errorf("run of a missing program: exit %d, log %v", code, lines)
	}
	// Bad usage is logged as an error as well.
	lines, code = logLines(t, "kill")
	if code == 0 || len(lines) == 0 || lines[len(lines)-1]["level"] != "error" {
		t.Errorf("kill without arguments: exit %d, log %v", code, lines)
	}
}

func TestDeleteForceOfGoneContainer(t *testing.T) {
	// containerd's shim calls delete --force on ids that may be gone: as
	// runc, that succeeds; without --force it is "container does not exist".
	if _, se, code := rt(t, "delete", "--force", "never-created"); code != 0 {
		t.Errorf("delete --force of a missing id: exit %d, %s", code, se)
	}
	if _, se, code := rt(t, "delete", "never-created"); code == 0 || !strings.Contains(se, "container does not exist") {
		t.Errorf("delete of a missing id: exit %d, %q", code, se)
	}
}

func readFileOrEmpty(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestInitLogsForwarded: what `rt init` logs, in its C stage and in Go,
// reaches rt's --log in the chosen format and level through the log pipe:
// the seccomp profile's unknown syscall, the C stage's namespace work, the
// container's C init before and after its Go set-up child (a config the C
// set-up does not take: see TestInitLogsCreateAndExec for the set-up in C).
func TestInitLogsForwarded(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"nosuchsyscall", "getcwd"}, Action: specs.ActErrno},
		}}
		// A config the C set-up does not take keeps the Go set-up
		// child: its lines are checked.
		s.Mounts = append(s.Mounts, goSetupMount(true))
	})
	has := func(lines []map[string]any, level, prefix string) bool {
		for _, l := range lines {
			if msg, _ := l["msg"].(string); l["level"] == level && strings.HasPrefix(msg, prefix) {
				return true
			}
		}
		return false
	}
	lines, code := logLines(t, "--debug", "run", "--bundle", b.Dir, newID(t))
	if code != 0 {
		t.Fatalf("run: exit %d, log %v", code, lines)
	}
	for _, want := range []string{
		"nsenter: bootstrap: clone flags",                  // the C stage
		"pid1: set-up process 2 forked; pid 1 stays in C",  // the container's init (C) after its fork
		"nsenter: done, pid 2 enters the Go runtime",       // its set-up child
		"init: configuration received (pid 2, exec false)", // the set-up child in Go
		"pid1: set up; waiting for start",                  // pid 1 again, after the set-up child exited
		`seccomp: unknown syscall "nosuchsyscall" ignored`, // a decision of the init that runc logs too
	} {
		if !has(lines, "debug", want) {
			t.Errorf("--debug --log-format json: no debug line %q in %v", want, lines)
		}
	}
	// Without --debug, no debug line of the init.
	lines, code = logLines(t, "run", "--bundle", b.Dir, newID(t))
	if code != 0 || has(lines, "debug", "") {
		t.Errorf("without --debug: exit %d, log %v", code, lines)
	}
	// Text format; exec's C stage joins the container's namespaces, then
	// applies the plan itself: no Go init starts for exec.
	id, _ := createContainer(t, newBundle(t, withArgs("sleep", "1000")))
	logFile := filepath.Join(t.TempDir(), "log.txt")
	if _, se, code := rt(t, "--debug", "--log", logFile, "exec", id, "true"); code != 0 {
		t.Fatalf("exec: exit %d: %s", code, se)
	}
	text := readFileOrEmpty(logFile)
	if strings.Contains(text, "init: configuration received") {
		t.Errorf("exec started the Go init:\n%s", text)
	}
	for _, want := range []string{`level=debug msg="nsenter: joined the mnt namespace /proc/`, `level=debug msg="nsenter: plan received`,
		`level=debug msg="nsenter: exec `} {
		if !strings.Contains(text, want) {
			t.Errorf("--debug --log (text) of exec: no %q in:\n%s", want, text)
		}
	}
}

// TestInitLogsCreateAndExec: the lines of the C stage and of the Go init
// reach --log during `rt create` (not only run: create returns before
// start) in text; exec's C stage, which applies the process plan, logs to
// --log in JSON; and a warning of it (an ambient capability that cannot
// be raised, which runc warns about too) is in the log without --debug,
// and create warns about it too.
func TestInitLogsCreateAndExec(t *testing.T) {
	b := newBundle(t, withArgs("sleep", "1000"))
	id := newID(t)
	logFile := filepath.Join(t.TempDir(), "create.txt")
	if _, se, code := rt(t, "--debug", "--log", logFile, "create", "--bundle", b.Dir, id); code != 0 {
		t.Fatalf("create: exit %d: %s", code, se)
	}
	text := readFileOrEmpty(logFile)
	for _, want := range []string{
		`level=debug msg="nsenter: bootstrap: clone flags`,                        // the C stage
		`level=debug msg="pid1: the set-up is applied by pid 1 (no set-up child)`, // the C init
		`level=debug msg="pid1: set-up applied in C (`,                            // ... after the set-up
		`level=debug msg="pid1: set up; waiting for start`,                        // the C init's last line before create returns
	} {
		if !strings.Contains(text, want) {
			t.Errorf("--debug --log (text) of create: no %q in:\n%s", want, text)
		}
	}
	mustRT(t, "start", id)

	has := func(lines []map[string]any, level, prefix string) bool {
		for _, l := range lines {
			if msg, _ := l["msg"].(string); l["level"] == level && strings.HasPrefix(msg, prefix) {
				return true
			}
		}
		return false
	}
	lines, code := logLines(t, "--debug", "exec", id, "true")
	if code != 0 || !has(lines, "debug", "nsenter: plan received") || !has(lines, "debug", "nsenter: exec ") {
		t.Errorf("--debug --log-format json of exec: exit %d, want the C stage's plan lines in %v", code, lines)
	}
	proc := specs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"PATH=/bin:/usr/bin"}, Capabilities: &specs.LinuxCapabilities{
		Bounding: []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}, Effective: []string{"CAP_CHOWN"},
		Permitted: []string{"CAP_CHOWN"}, Ambient: []string{"CAP_SYS_ADMIN"},
	}}
	lines, code = logLines(t, "exec", "-p", writeJSON(t, proc), id)
	if code != 0 || !has(lines, "warning", "can't raise ambient capability") || has(lines, "debug", "") {
		t.Errorf("exec with an ambient capability it cannot raise, no --debug: exit %d, want one warning and no debug line in %v", code, lines)
	}
	// The same process as a container's: its init raises the ambient set
	// after start, so create says beforehand what it cannot raise (runc's
	// create logs it: its init drops privileges before it is ready).
	b2 := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Process.Capabilities = proc.Capabilities
	})
	lines, code = logLines(t, "create", "--bundle", b2.Dir, newID(t))
	if code != 0 || !has(lines, "warning", "can't raise ambient capability CAP_SYS_ADMIN: operation not permitted") {
		t.Errorf("create with an ambient capability it cannot raise: exit %d, want the warning in %v", code, lines)
	}
}
