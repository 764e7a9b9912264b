package utils

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Real-time signal numbers as user space (glibc, kill -l, docker) numbers
// them: glibc keeps 32 and 33 for itself, so SIGRTMIN is 34.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// signalAliases are names x/sys/unix does not know.
var signalAliases = map[string]unix.Signal{
	"SIGIOT":    unix.SIGABRT,
	"SIGPOLL":   unix.SIGIO,
	"SIGCLD":    unix.SIGCHLD,
	"SIGUNUSED": unix.SIGSYS,
}

// ParseSignal parses a signal given as a number ("9"), a name with or without
// the SIG prefix in any case ("KILL", "SIGKILL", "sigkill"), or a real-time
// signal ("RTMIN", "RTMIN+3", "SIGRTMAX-2"). Numbers must lie in 0..64.
// Anything else is an error `unknown signal "FOO"`.
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > sigRTMax {
			return -1, fmt.Errorf("unknown signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := signalAliases[name]; ok {
		return sig, nil
	}
	if sig, ok := parseRealtime(strings.TrimPrefix(name, "SIG")); ok {
		return sig, nil
	}
	return -1, fmt.Errorf("unknown signal %q", s)
}

// parseRealtime parses RTMIN, RTMIN+n, RTMAX and RTMAX-n.
func parseRealtime(name string) (unix.Signal, bool) {
	base, sign, rest := 0, 1, ""
	switch {
	case strings.HasPrefix(name, "RTMIN"):
		base, rest = sigRTMin, strings.TrimPrefix(name, "RTMIN")
		if rest != "" && rest[0] != '+' {
			return 0, false
		}
	case strings.HasPrefix(name, "RTMAX"):
		base, sign, rest = sigRTMax, -1, strings.TrimPrefix(name, "RTMAX")
		if rest != "" && rest[0] != '-' {
			return 0, false
		}
	default:
		return 0, false
	}
	off := 0
	if rest != "" {
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n < 0 || rest[1:] == "" || rest[1] == '+' || rest[1] == '-' {
			return 0, false
		}
		off = n
	}
	sig := base + sign*off
	if sig < sigRTMin || sig > sigRTMax {
		return 0, false
	}
	return unix.Signal(sig), true
}
