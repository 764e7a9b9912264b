package engines

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireCriu skips unless a criu that works on this kernel is in PATH
// (make test-engines puts the one of scripts/install-criu.sh first), and
// fails instead where the engine tests are required.
func requireCriu(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "criu", "check").CombinedOutput()
	if err == nil {
		return
	}
	msg := "checkpoint/restore needs a working criu in PATH (make criu): criu check: " + strings.TrimSpace(lastLine(string(out))) + " " + err.Error()
	if os.Getenv("RT_ENGINES_REQUIRED") == "1" || os.Getenv("RT_REQUIRE_CRIU") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIP: " + msg)
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

// TestCtrCheckpointRestore: containerd checkpoints a running task through
// the runc v2 shim and rt (`ctr containers checkpoint --task`, criu images
// in a checkpoint image), the container goes away, and `ctr containers
// restore --live` brings it back running through `rt restore`: the counter
// its shell keeps in memory carries on from where it was.
func TestCtrCheckpointRestore(t *testing.T) {
	e := engine(t)
	requireCriu(t)
	s := ctrSession{e, t}
	const id, ref = "rt-ckpt", "rt-test/checkpoint:rt-ckpt"
	s.runDetached(id, nil, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/cnt.new; mv /tmp/cnt.new /tmp/cnt; sleep 0.2; done")
	// counter reads the container's counter through an exec; an exec that
	// fails (the task just restored, the shim not yet serving it) is
	// retried, up to 5 s, and its error reported if it never succeeds.
	counter := func() int {
		var last string
		for i := 0; i < 25; i++ {
			out, rc := s.run("tasks", "exec", "--exec-id", "c"+strconv.FormatInt(time.Now().UnixNano(), 36), id, "cat", "/tmp/cnt")
			if n, err := strconv.Atoi(strings.TrimSpace(out)); rc == 0 && err == nil {
				return n
			}
			last = fmt.Sprintf("%q (exit %d)", out, rc)
			t.Logf("reading the counter: exec failed, retrying: %s", last)
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("reading the counter: exec kept failing: %s", last)
		return 0
	}
	var before int
	for i := 0; i < 50 && before < 5; i++ {
		time.Sleep(200 * time.Millisecond)
		before = counter()
	}
	if before < 5 {
		t.Fatalf("counter not running: %d", before)
	}
	t.Cleanup(func() { e.ctr(ctrTimeout, e.ctrNS, "images", "rm", ref) })
	s.mustRun("containers", "checkpoint", "--task", "--image", id, ref)
	pid, st := s.task(id)
	if st != "RUNNING" {
		t.Fatalf("after checkpoint: task %s (pid %d), want RUNNING (containerd leaves it running)", st, pid)
	}
	s.remove(id)
	if _, st := s.task(id); st != "" {
		t.Fatalf("task still listed after removal: %s", st)
	}
	out := s.mustRun("containers", "restore", "--live", id, ref)
	t.Logf("restore: %s", out)
	s.waitStatus(id, "RUNNING")
	after := counter()
	time.Sleep(time.Second)
	later := counter()
	if after < before || later <= after {
		t.Fatalf("counter after restore %d then %d; checkpointed at %d: want it to carry on from there and keep counting", after, later, before)
	}
	found := false
	for _, call := range e.runtimeCalls() {
		if strings.Contains(call, " restore ") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no rt restore call in %s", e.callLog)
	}
}
