package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// defaultErrno is the errno of SCMP_ACT_ERRNO and SCMP_ACT_TRACE when the
// profile gives none (EPERM, as runc).
const defaultErrno = uint(unix.EPERM)

// scmpAction turns an OCI action and optional errno into a libseccomp action.
func scmpAction(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	act, ok := actions[a]
	if !ok {
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
	}
	if act == libseccomp.ActErrno || act == libseccomp.ActTrace {
		code := defaultErrno
		if errnoRet != nil {
			code = *errnoRet
		}
		act = act.SetReturnCode(int16(uint16(code)))
	}
	return act, nil
}

// buildFilter turns a validated profile into a libseccomp filter context.
// The caller must Release it.
func buildFilter(s *specs.LinuxSeccomp) (*libseccomp.ScmpFilter, error) {
	defAct, err := scmpAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: create seccomp filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			filter.Release()
		}
	}()
	for i, a := range s.Architectures {
		if err := filter.AddArch(archs[a]); err != nil {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: add %s: %w", i, a, err)
		}
	}
	// libseccomp's binary tree optimisation helps long profiles; libseccomp
	// up to 2.5.4 misbehaves with it and no rules, hence the threshold.
	if len(s.Syscalls) > 32 {
		if err := filter.SetOptimize(2); err != nil {
			logrus.Debugf("seccomp binary tree optimization not available: %v", err)
		}
	}
	for i, sc := range s.Syscalls {
		if err := addSyscallRule(filter, defAct, sc); err != nil {
			return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
	}
	ok = true
	return filter, nil
}

// addSyscallRule adds one OCI syscall entry (several names, one action, some
// argument conditions) to filter.
func addSyscallRule(filter *libseccomp.ScmpFilter, defAct libseccomp.ScmpAction, sc specs.LinuxSyscall) error {
	act, err := scmpAction(sc.Action, sc.ErrnoRet)
	if err != nil {
		return err
	}
	if act == defAct {
		// Same as the default action: redundant, and libseccomp rejects it.
		return nil
	}
	conds := make([]libseccomp.ScmpCondition, 0, len(sc.Args))
	var perIndex [maxSyscallArgs]int
	for j, arg := range sc.Args {
		op, ok := operators[arg.Op]
		if !ok {
			return fmt.Errorf("args[%d]: unknown operator %q", j, arg.Op)
		}
		if arg.Index >= maxSyscallArgs {
			return fmt.Errorf("args[%d]: index %d out of range", j, arg.Index)
		}
		c, err := libseccomp.MakeCondition(arg.Index, op, arg.Value, arg.ValueTwo)
		if err != nil {
			return fmt.Errorf("args[%d]: %w", j, err)
		}
		perIndex[arg.Index]++
		conds = append(conds, c)
	}
	// libseccomp cannot AND two conditions on the same argument; like runc,
	// fall back to one rule per condition (OR) in that case.
	sameIndex := false
	for _, n := range perIndex {
		if n > 1 {
			sameIndex = true
		}
	}
	for _, name := range sc.Names {
		call, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			logrus.Debugf("seccomp: unknown syscall %q ignored", name)
			continue
		}
		switch {
		case len(conds) == 0:
			err = filter.AddRule(call, act)
		case sameIndex:
			for _, c := range conds {
				if err = filter.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
					break
				}
			}
		default:
			err = filter.AddRuleConditional(call, act, conds)
		}
		if err != nil && call < 0 {
			// A pseudo-syscall (the name exists only on other
			// architectures): libseccomp may refuse it for this filter's
			// architectures. runc ignores these; so do we.
			logrus.Debugf("seccomp: syscall %q not available on the filter's architectures: %v", name, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("add rule for syscall %q: %w", name, err)
		}
	}
	return nil
}

// hasNotify reports whether any syscall entry uses SCMP_ACT_NOTIFY.
func hasNotify(s *specs.LinuxSeccomp) bool {
	for _, sc := range s.Syscalls {
		if sc.Action == specs.ActNotify {
			return true
		}
	}
	return false
}
