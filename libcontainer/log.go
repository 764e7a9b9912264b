package libcontainer

import "github.com/sirupsen/logrus"

func warnf(format string, args ...any) { logrus.Warnf(format, args...) }

// warnIf logs a failure that is deliberately not returned (a clean-up
// after the error being returned, or one that must not stop the rest),
// so that it is not lost.
func warnIf(what string, err error) {
	if err != nil {
		logrus.Warnf("%s: %v", what, err)
	}
}
