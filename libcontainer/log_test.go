package libcontainer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// DebugPhase logs a phase's duration at debug level only.
func TestDebugPhase(t *testing.T) {
	var out bytes.Buffer
	logrus.SetOutput(&out)
	defer logrus.SetOutput(logrus.StandardLogger().Out)
	level := logrus.GetLevel()
	defer logrus.SetLevel(level)

	logrus.SetLevel(logrus.InfoLevel)
	DebugPhase("quiet phase", time.Now())
	if out.Len() != 0 {
		t.Fatalf("DebugPhase at info level logged %q", out.String())
	}
	logrus.SetLevel(logrus.DebugLevel)
	DebugPhase("create x: spawn init", time.Now().Add(-1500*time.Microsecond))
	line := out.String()
	if !strings.Contains(line, "create x: spawn init: 1.") || !strings.Contains(line, "ms since rt started") {
		t.Fatalf("DebugPhase logged %q", line)
	}
}
