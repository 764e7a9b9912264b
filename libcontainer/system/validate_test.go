package system

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateRlimits(t *testing.T) {
	if err := ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}, {Type: "RLIMIT_CORE"}}); err != nil {
		t.Fatal(err)
	}
	err := ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_FOO"}})
	if !errors.Is(err, ErrUnknownRlimit) || !strings.Contains(err.Error(), `process.rlimits[1]`) || !strings.Contains(err.Error(), `"RLIMIT_FOO"`) {
		t.Fatalf("unknown type: %v", err)
	}
	err = ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 3, Hard: 2}})
	if err == nil || !strings.Contains(err.Error(), "soft limit 3 is greater than the hard limit 2") {
		t.Fatalf("soft > hard: %v", err)
	}
	err = ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_NOFILE"}})
	if err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate: %v", err)
	}
	for _, n := range []string{"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
		"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
		"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"} {
		if err := ValidateRlimits([]specs.POSIXRlimit{{Type: n, Soft: 1, Hard: 1}}); err != nil {
			t.Errorf("%s refused: %v", n, err)
		}
	}
	if err := ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOSUCH"}}); !errors.Is(err, ErrUnknownRlimit) {
		t.Errorf("unknown rlimit: %v, want ErrUnknownRlimit", err)
	}
}

func TestPersonalityValue(t *testing.T) {
	v, err := personalityValue(&specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}})
	if err != nil || v != 0x0040008 {
		t.Fatalf("got %#x, %v", v, err)
	}
	if err := ValidatePersonality(&specs.LinuxPersonality{Domain: "LINUX64"}); err == nil || !strings.Contains(err.Error(), `"LINUX64"`) {
		t.Fatalf("bad domain: %v", err)
	}
	if err := ValidatePersonality(&specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"NOPE"}}); err == nil || !strings.Contains(err.Error(), "linux.personality.flags[0]") {
		t.Fatalf("bad flag: %v", err)
	}
	if err := ValidatePersonality(nil); err != nil {
		t.Fatal(err)
	}
}

func TestValidateScheduler(t *testing.T) {
	good := []*specs.Scheduler{
		nil,
		{Policy: specs.SchedOther, Nice: -20},
		{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}},
		{Policy: specs.SchedDeadline, Runtime: 1e6, Deadline: 2e6, Period: 3e6},
	}
	for _, s := range good {
		if err := ValidateScheduler(s); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := map[string]*specs.Scheduler{
		"policy is required":       {},
		"unknown policy":           {Policy: "SCHED_FOO"},
		"unknown flag":             {Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"X"}},
		"invalid nice 20":          {Policy: specs.SchedBatch, Nice: 20},
		"SCHED_FIFO or SCHED_RR":   {Policy: specs.SchedOther, Priority: 1},
		"only be specified for SC": {Policy: specs.SchedRR, Period: 1},
	}
	for want, s := range bad {
		if err := ValidateScheduler(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: got %v, want %q", s, err, want)
		}
	}
	attr, err := schedAttr(&specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1, Deadline: 2, Period: 3, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagReclaim, specs.SchedFlagDLOverrun}})
	if err != nil || attr.Policy != 6 || attr.Flags != 6 || attr.Size != 56 || attr.Period != 3 {
		t.Fatalf("schedAttr = %+v, %v", attr, err)
	}
}

func TestValidateIOPriority(t *testing.T) {
	if err := ValidateIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 7}); err != nil {
		t.Fatal(err)
	}
	if err := ValidateIOPriority(&specs.LinuxIOPriority{Class: "IOPRIO_CLASS_X"}); err == nil || !strings.Contains(err.Error(), "process.ioPriority.class") {
		t.Fatalf("bad class: %v", err)
	}
	if err := ValidateIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}); err == nil || !strings.Contains(err.Error(), "invalid priority 8") {
		t.Fatalf("bad priority: %v", err)
	}
}

func TestSetOOMScoreAdjRange(t *testing.T) {
	if err := SetOOMScoreAdj(0, 1001); err == nil {
		t.Fatal("1001 must be rejected")
	}
}
