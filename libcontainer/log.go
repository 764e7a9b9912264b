package libcontainer

import "github.com/sirupsen/logrus"

func warnf(format string, args ...any) { logrus.Warnf(format, args...) }
