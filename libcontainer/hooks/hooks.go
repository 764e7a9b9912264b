// Package hooks runs OCI lifecycle hooks (prestart, createRuntime,
// createContainer, startContainer, poststart, poststop).
package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/nsenter"
)

// ErrTimeout is wrapped by the error of a hook killed because it ran past its
// timeout.
var ErrTimeout = errors.New("hook ran past its timeout")

// DefaultTimeout bounds a hook that sets no timeout (runc waits for it for
// ever): no rt command waits on a child without a bound. Two minutes, as
// kubelet's default runtime request timeout: an engine above rt has given
// up by then. The startContainer hooks, which the container's C init runs,
// get the same bound (see libcontainer's startHooksPayload). A variable for
// the tests.
var DefaultTimeout = 2 * time.Minute

// TimeoutOf is how long a hook may run: its timeout, or DefaultTimeout.
func TimeoutOf(h specs.Hook) time.Duration {
	if h.Timeout != nil {
		return time.Duration(*h.Timeout) * time.Second
	}
	return DefaultTimeout
}

// TotalTimeout is the longest hs may run, one after the other.
func TotalTimeout(hs []specs.Hook) time.Duration {
	var d time.Duration
	for _, h := range hs {
		d += TimeoutOf(h)
	}
	return d
}

// pipeDrainDelay bounds how long Run waits, after a hook exits or is killed,
// for its output pipes to close. A hook may leave a background process holding
// them open; that must not block the runtime.
const pipeDrainDelay = 500 * time.Millisecond

// Error is the failure of one hook.
type Error struct {
	Kind   string // hook kind, e.g. "createRuntime"
	Index  int    // position of the hook in its list, from 0 (as runc counts)
	Path   string // the hook's Path
	Stdout string // what the hook wrote to stdout, trimmed
	Stderr string // what the hook wrote to stderr, trimmed
	Err    error  // why it failed: exit status, start error, ErrTimeout
}

// Error renders "<kind> hook #<index> (<path>): <err>[: <stderr>]". When the
// hook wrote nothing to stderr, its stdout is shown instead.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s hook #%d (%s): %v", e.Kind, e.Index, e.Path, e.Err)
	output := e.Stderr
	if output == "" {
		output = e.Stdout
	}
	if output != "" {
		msg += ": " + output
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs hooks in order and stops at the first failure. Each hook gets the
// state as JSON on stdin, runs its Path directly (no shell, no PATH lookup)
// with argv = Args (or [Path] when Args is empty) and environment Env (the
// runtime's own environment when Env is empty, as runc does), and is killed
// when it runs longer than Timeout seconds (DefaultTimeout without one). Fds 0, 1 and 2 are passed on, and
// any fd of the caller that is not close-on-exec: rt marks its inherited fds
// close-on-exec when it starts (system.CloseExecFrom). Stdout and
// stderr are captured and reported in the error only.
func Run(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := prepare(kind, state)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runOne(kind, i, h, stdin); err != nil {
			return err
		}
	}
	return nil
}

// RunAll runs every hook even when some fail (the poststop rule: failures are
// warnings, not reasons to stop) and returns the failures joined, or nil.
func RunAll(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := prepare(kind, state)
	if err != nil {
		return err
	}
	var errs []error
	for i, h := range hooks {
		if err := runOne(kind, i, h, stdin); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// prepare encodes the state for the hooks' stdin.
func prepare(kind string, state *specs.State) ([]byte, error) {
	stdin, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("%s hooks: encode state: %w", kind, err)
	}
	return stdin, nil
}

func runOne(kind string, index int, h specs.Hook, stdin []byte) error {
	hookErr := func(err error, stdout, stderr *bytes.Buffer) error {
		e := &Error{Kind: kind, Index: index, Path: h.Path, Err: err}
		if stdout != nil {
			e.Stdout = strings.TrimSpace(stdout.String())
			e.Stderr = strings.TrimSpace(stderr.String())
		}
		return e
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return hookErr(fmt.Errorf("invalid timeout %d: must be greater than zero", *h.Timeout), nil, nil)
	}

	var stdout, stderr bytes.Buffer
	cmd := &exec.Cmd{
		Path:      h.Path,
		Args:      h.Args,
		Env:       h.Env,
		Stdin:     bytes.NewReader(stdin),
		Stdout:    &stdout,
		Stderr:    &stderr,
		WaitDelay: pipeDrainDelay,
	}
	if err := nsenter.WithChildTimerSlack(cmd.Start); err != nil {
		return hookErr(err, &stdout, &stderr)
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	limit := TimeoutOf(h)
	timer := time.NewTimer(limit)
	defer timer.Stop()

	select {
	case err := <-done:
		if errors.Is(err, exec.ErrWaitDelay) {
			// The hook succeeded but left its output pipes open in
			// some background process; that is not a failure.
			err = nil
		}
		if err != nil {
			return hookErr(err, &stdout, &stderr)
		}
		return nil
	case <-timer.C:
		_ = cmd.Process.Kill() // already gone is fine: done reaps it either way
		<-done
		if h.Timeout == nil {
			return hookErr(fmt.Errorf("%w of %v (the default: the hook sets none): killed", ErrTimeout, limit), &stdout, &stderr)
		}
		return hookErr(fmt.Errorf("%w of %ds: killed", ErrTimeout, *h.Timeout), &stdout, &stderr)
	}
}
