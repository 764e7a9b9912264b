package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrInvalid is wrapped by every validation error of this package.
var ErrInvalid = errors.New("invalid seccomp profile")

// maxSyscallArgs is the number of arguments a Linux syscall can have.
const maxSyscallArgs = 6

func invalid(field, format string, a ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, a...), ErrInvalid)
}

// Validate checks a linux.seccomp profile without touching the kernel:
// actions, operators, architectures and flags must be known, argument indexes
// below 6, errnoRet only on SCMP_ACT_ERRNO/SCMP_ACT_TRACE and at most 65535,
// and SCMP_ACT_NOTIFY only with a listenerPath, never as the default action
// nor for "write" (the init needs write to hand the notify fd over).
// Syscall names are not checked: names unknown to libseccomp are skipped at
// load time, as runc does. A nil s is valid.
func Validate(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	if err := validateAction("linux.seccomp.defaultAction", s.DefaultAction, s.DefaultErrnoRet, "linux.seccomp.defaultErrnoRet"); err != nil {
		return err
	}
	if s.DefaultAction == specs.ActNotify {
		return invalid("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be used as the default action")
	}
	for i, a := range s.Architectures {
		if _, ok := archs[a]; !ok {
			return invalid(fmt.Sprintf("linux.seccomp.architectures[%d]", i), "unknown architecture %q", a)
		}
	}
	for i, f := range s.Flags {
		if _, ok := flags[f]; !ok {
			return invalid(fmt.Sprintf("linux.seccomp.flags[%d]", i), "unknown flag %q", f)
		}
	}
	notify := false
	for i, sc := range s.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		if err := validateAction(field+".action", sc.Action, sc.ErrnoRet, field+".errnoRet"); err != nil {
			return err
		}
		for j, name := range sc.Names {
			if name == "" {
				return invalid(fmt.Sprintf("%s.names[%d]", field, j), "empty syscall name")
			}
			if sc.Action == specs.ActNotify && name == "write" {
				return invalid(fmt.Sprintf("%s.names[%d]", field, j), "SCMP_ACT_NOTIFY cannot be used for the write syscall")
			}
		}
		for j, arg := range sc.Args {
			af := fmt.Sprintf("%s.args[%d]", field, j)
			if arg.Index >= maxSyscallArgs {
				return invalid(af+".index", "index %d out of range (a syscall has at most %d arguments)", arg.Index, maxSyscallArgs)
			}
			if _, ok := operators[arg.Op]; !ok {
				return invalid(af+".op", "unknown operator %q", arg.Op)
			}
		}
		if sc.Action == specs.ActNotify {
			notify = true
		}
	}
	if notify && s.ListenerPath == "" {
		return invalid("linux.seccomp.listenerPath", "must be set when SCMP_ACT_NOTIFY is used")
	}
	return nil
}

func validateAction(field string, a specs.LinuxSeccompAction, errnoRet *uint, errnoField string) error {
	if _, ok := actions[a]; !ok {
		return invalid(field, "unknown action %q", a)
	}
	if errnoRet != nil {
		if a != specs.ActErrno && a != specs.ActTrace {
			return invalid(errnoField, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not %s", a)
		}
		if *errnoRet > 0xFFFF {
			return invalid(errnoField, "%d does not fit in 16 bits", *errnoRet)
		}
	}
	return nil
}
