package libcontainer

import (
	"errors"
	"testing"
)

var allStatuses = []Status{Creating, Created, Running, Paused, Stopped}

// The whole matrix, written out as runc behaves: "" means allowed,
// otherwise the exact refusal text (engines match these).
func TestLifecycleMatrix(t *testing.T) {
	want := map[Op][5]string{ // Creating, Created, Running, Paused, Stopped
		OpStart: {"cannot start a container in the creating state", "",
			"cannot start an already running container", "cannot start a container in the paused state",
			"cannot start a container that has stopped"},
		OpExec: {"cannot exec in a container that is being created", "", "",
			"cannot exec in a paused container (use --ignore-paused to override)", "cannot exec in a stopped container"},
		OpExecPaused: {"cannot exec in a container that is being created", "", "", "",
			"cannot exec in a stopped container"},
		OpPause:  {"container not running", "", "", "container not running", "container not running"},
		OpResume: {"container not paused", "container not paused", "container not paused", "", "container not paused"},
		OpSignal: {"", "", "", "", "container not running"},
		OpDelete: {"", "", "cannot delete container c1 that is not stopped: running",
			"cannot delete container c1 that is not stopped: paused", ""},
		OpDeleteForce: {"", "", "", "", ""},
		OpUpdate:      {"", "", "", "", "container not running"},
		OpEvents:      {"", "", "", "", "container with id c1 is not running"},
	}
	if len(want) != len(lifecycle) {
		t.Errorf("the table has %d operations, the test %d", len(lifecycle), len(want))
	}
	for op, texts := range want {
		for i, s := range allStatuses {
			err := checkStatus(op, "c1", s)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != texts[i] {
				t.Errorf("%s in %s: %q, want %q", op, s, got, texts[i])
			}
		}
	}
}

// Callers branch on the sentinels (runc's): the refusals unwrap to them.
func TestLifecycleSentinels(t *testing.T) {
	for _, c := range []struct {
		op   Op
		s    Status
		want error
	}{
		{OpPause, Stopped, ErrNotRunning},
		{OpSignal, Stopped, ErrNotRunning},
		{OpUpdate, Stopped, ErrNotRunning},
		{OpResume, Running, ErrNotPaused},
	} {
		err := checkStatus(c.op, "x", c.s)
		if !errors.Is(err, c.want) {
			t.Errorf("%s in %s: %v is not %v", c.op, c.s, err, c.want)
		}
		var se *StatusError
		if !errors.As(err, &se) || se.Op != c.op || se.Status != c.s {
			t.Errorf("%s in %s: %#v is not a StatusError for it", c.op, c.s, err)
		}
	}
	if err := checkStatus(OpStart, "x", Stopped); errors.Is(err, ErrNotRunning) {
		t.Errorf("start refusal %v unwraps to ErrNotRunning", err)
	}
}

func TestLifecycleUnknownOpPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an operation missing from the table did not panic")
		}
	}()
	checkStatus(Op("checkpoint"), "x", Running)
}
