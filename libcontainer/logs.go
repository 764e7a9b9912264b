package libcontainer

import (
	"bufio"
	"encoding/json"
	"os"
	"time"

	"github.com/sirupsen/logrus"
)

// logForwarder copies the log lines of an `rt init` into rt's own log, as
// runc does with _LIBCONTAINER_LOGPIPE: the init (its C stage and its Go
// part) writes one JSON object per line ({"level": ..., "msg": ...}) to
// the pipe named by _RT_LOGPIPE, at the level given by _RT_LOGLEVEL, and
// the lines come out here with rt's --log, --log-format and --debug. The
// init closes its end before it waits for start (create) and its end is
// close-on-exec (exec), so the copy ends by itself.
type logForwarder struct {
	r    *os.File
	done chan struct{}
}

func forwardLogs(r *os.File) *logForwarder {
	f := &logForwarder{r: r, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			forwardLine(sc.Bytes())
		}
	}()
	return f
}

func forwardLine(line []byte) {
	var e struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		if len(line) > 256 {
			line = line[:256]
		}
		logrus.Errorf("rt init: undecodable log line %q: %v", line, err)
		return
	}
	lvl, err := logrus.ParseLevel(e.Level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	logrus.StandardLogger().Log(lvl, e.Msg)
}

// wait waits, at most timeout, until every line the init wrote has been
// copied, then stops the copy.
func (f *logForwarder) wait(timeout time.Duration) {
	if f == nil {
		return
	}
	select {
	case <-f.done:
	case <-time.After(timeout):
	}
	f.stop()
}

// stop ends the copy (what the init writes from now on is lost).
func (f *logForwarder) stop() {
	if f != nil {
		f.r.Close()
	}
}
