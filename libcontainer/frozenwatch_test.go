package libcontainer

import (
	"errors"
	"testing"

	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// The watch's end names why the wait ended: the end of the socket, which
// the watch caused itself, adds nothing; another error is kept.
func TestFrozenWatchEndMessages(t *testing.T) {
	done := func() chan struct{} { c := make(chan struct{}); close(c); return c }
	other := errors.New("init says no")
	for _, tc := range []struct {
		fired, stopped bool
		err            error
		want           string
		is             error
	}{
		{stopped: true, err: initproto.ErrClosed, want: "container's process stopped by a signal before it exec'd: killed", is: ErrInitStopped},
		{stopped: true, err: nil, want: "container's process stopped by a signal before it exec'd: killed", is: ErrInitStopped},
		{fired: true, err: initproto.ErrClosed, want: "container's cgroup unexpectedly frozen while waiting for the container's process", is: ErrCgroupFrozen},
		{fired: true, err: other, want: "container's cgroup unexpectedly frozen while waiting for the container's process: init says no", is: other},
		{err: other, want: "init says no", is: other},
	} {
		w := &frozenWatch{stop: make(chan struct{}), done: done(), fired: tc.fired, stopped: tc.stopped}
		got := w.end(tc.err)
		if got == nil || got.Error() != tc.want || !errors.Is(got, tc.is) {
			t.Errorf("end(%v) fired=%v stopped=%v = %v, want %q (is %v)", tc.err, tc.fired, tc.stopped, got, tc.want, tc.is)
		}
	}
}
