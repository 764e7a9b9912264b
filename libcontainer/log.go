package libcontainer

import (
	"time"

	"github.com/sirupsen/logrus"
)

func warnf(format string, args ...any) { logrus.Warnf(format, args...) }

// warnIf logs a failure that is deliberately not returned (a clean-up
// after the error being returned, or one that must not stop the rest),
// so that it is not lost.
func warnIf(what string, err error) {
	if err != nil {
		logrus.Warnf("%s: %v", what, err)
	}
}

// processStart is about when rt started (its packages' initialisation:
// the Go runtime's and the dynamic loader's start come before).
var processStart = time.Now()

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// DebugPhase logs, at debug level, that a phase which began at t is done:
// its duration and the time since rt started. `rt --debug` is the
// per-phase profile of a command (docs/design.md, where the time goes).
func DebugPhase(what string, t time.Time) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("%s: %.2f ms (%.2f ms since rt started)", what, msSince(t), msSince(processStart))
	}
}
