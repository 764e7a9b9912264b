package specconv

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The contract: no field of config.json is ignored. Every leaf field of the
// runtime-spec Go types (specs.Spec, walked by reflection) is in
// fieldContract: either a test that shows its effect (the test's body must
// name the Go field), or a refusal Convert gives for a config that sets it
// (checked here by setting the field). A field added to the spec fails
// TestSpecFieldContract until someone decides which it is.

type fieldRule struct {
	// test is a test function (anywhere in the repository) showing the
	// field's effect, or the host's refusal where it lacks the mechanism.
	test string
	// refuse: Convert refuses the field with an error containing this.
	refuse string
}

func shown(test string) fieldRule  { return fieldRule{test: test} }
func refused(msg string) fieldRule { return fieldRule{refuse: msg} }

// refusedSections: whole sections rt refuses (other platforms): every field
// under them, present or future, is refused with the section's name.
var refusedSections = []string{"solaris", "windows", "vm", "zos", "freebsd"}

var fieldContract = map[string]fieldRule{
	"ociVersion":                       shown("TestCheckVersion"),
	"process.terminal":                 shown("TestTerminalConsoleSocket"),
	"process.consoleSize.height":       shown("TestTerminalConsoleSocket"),
	"process.consoleSize.width":        shown("TestTerminalConsoleSocket"),
	"process.user.uid":                 shown("TestProcessUser"),
	"process.user.gid":                 shown("TestProcessUser"),
	"process.user.umask":               shown("TestUmask"),
	"process.user.additionalGids":      shown("TestProcessUser"),
	"process.user.username":            refused("process.user.username"),
	"process.args":                     shown("TestProcessArgsEnvCwd"),
	"process.commandLine":              refused("process.commandLine"),
	"process.env":                      shown("TestProcessEnvExact"),
	"process.cwd":                      shown("TestCwdCreated"),
	"process.capabilities.bounding":    shown("TestCapabilities"),
	"process.capabilities.effective":   shown("TestCapabilities"),
	"process.capabilities.inheritable": shown("TestCapabilities"),
	"process.capabilities.permitted":   shown("TestCapabilities"),
	"process.capabilities.ambient":     shown("TestCapabilities"),
	"process.rlimits.type":             shown("TestRlimits"),
	"process.rlimits.hard":             shown("TestRlimits"),
	"process.rlimits.soft":             shown("TestRlimits"),
	"process.noNewPrivileges":          shown("TestNoNewPrivileges"),
	"process.apparmorProfile":          shown("TestAppArmorProfile"),
	"process.oomScoreAdj":              shown("TestOOMScoreAdj"),
	"process.scheduler.policy":         shown("TestSchedulerIOPriorityPersonality"),
	"process.scheduler.nice":           shown("TestSchedulerIOPriorityPersonality"),
	"process.scheduler.priority":       shown("TestSchedulerRealtime"),
	"process.scheduler.flags":          shown("TestSchedulerRealtime"),
	// SCHED_DEADLINE's parameters: passed to sched_setattr as validated
	// (the kernel refuses SCHED_DEADLINE in a cgroup of RT group
	// scheduling, as on the test host).
	"process.scheduler.runtime":                             shown("TestValidateScheduler"),
	"process.scheduler.deadline":                            shown("TestValidateScheduler"),
	"process.scheduler.period":                              shown("TestValidateScheduler"),
	"process.selinuxLabel":                                  refused("process.selinuxLabel"),
	"process.ioPriority.class":                              shown("TestSchedulerIOPriorityPersonality"),
	"process.ioPriority.priority":                           shown("TestSchedulerIOPriorityPersonality"),
	"process.execCPUAffinity.initial":                       shown("TestExecCPUAffinity"),
	"process.execCPUAffinity.final":                         shown("TestExecCPUAffinity"),
	"root.path":                                             shown("TestBadMissingRootfs"),
	"root.readonly":                                         shown("TestReadonlyRoot"),
	"hostname":                                              shown("TestHostname"),
	"domainname":                                            shown("TestDomainname"),
	"mounts.destination":                                    shown("TestRelativeMountDestination"),
	"mounts.type":                                           shown("TestRelativeMountDestination"),
	"mounts.source":                                         shown("TestBadMountSourceMissing"),
	"mounts.options":                                        shown("TestBadMountSourceMissing"),
	"mounts.uidMappings.containerID":                        shown("TestIDMappedMountOwnMappings"),
	"mounts.uidMappings.hostID":                             shown("TestIDMappedMountOwnMappings"),
	"mounts.uidMappings.size":                               shown("TestIDMappedMountOwnMappings"),
	"mounts.gidMappings.containerID":                        shown("TestIDMappedMountOwnMappings"),
	"mounts.gidMappings.hostID":                             shown("TestIDMappedMountOwnMappings"),
	"mounts.gidMappings.size":                               shown("TestIDMappedMountOwnMappings"),
	"hooks.prestart.path":                                   shown("TestHookFailureAbortsCreate"),
	"hooks.prestart.args":                                   shown("TestRunOrderStdinArgsEnv"),
	"hooks.prestart.env":                                    shown("TestRunOrderStdinArgsEnv"),
	"hooks.prestart.timeout":                                shown("TestHookTimeout"),
	"hooks.createRuntime.path":                              shown("TestHookFailureAbortsCreate"),
	"hooks.createRuntime.args":                              shown("TestRunOrderStdinArgsEnv"),
	"hooks.createRuntime.env":                               shown("TestRunOrderStdinArgsEnv"),
	"hooks.createRuntime.timeout":                           shown("TestHookTimeout"),
	"hooks.createContainer.path":                            shown("TestHookFailureAbortsCreate"),
	"hooks.createContainer.args":                            shown("TestRunOrderStdinArgsEnv"),
	"hooks.createContainer.env":                             shown("TestRunOrderStdinArgsEnv"),
	"hooks.createContainer.timeout":                         shown("TestHookTimeout"),
	"hooks.startContainer.path":                             shown("TestHookPathsRun"),
	"hooks.startContainer.args":                             shown("TestRunOrderStdinArgsEnv"),
	"hooks.startContainer.env":                              shown("TestRunOrderStdinArgsEnv"),
	"hooks.startContainer.timeout":                          shown("TestHookTimeout"),
	"hooks.poststart.path":                                  shown("TestHookPathsRun"),
	"hooks.poststart.args":                                  shown("TestRunOrderStdinArgsEnv"),
	"hooks.poststart.env":                                   shown("TestRunOrderStdinArgsEnv"),
	"hooks.poststart.timeout":                               shown("TestHookTimeout"),
	"hooks.poststop.path":                                   shown("TestHookPathsRun"),
	"hooks.poststop.args":                                   shown("TestRunOrderStdinArgsEnv"),
	"hooks.poststop.env":                                    shown("TestRunOrderStdinArgsEnv"),
	"hooks.poststop.timeout":                                shown("TestHookTimeout"),
	"annotations":                                           shown("TestAnnotationsInState"),
	"linux.uidMappings.containerID":                         shown("TestUserNamespaceMapping"),
	"linux.uidMappings.hostID":                              shown("TestUserNamespaceMapping"),
	"linux.uidMappings.size":                                shown("TestUserNamespaceMapping"),
	"linux.gidMappings.containerID":                         shown("TestUserNamespaceMapping"),
	"linux.gidMappings.hostID":                              shown("TestUserNamespaceMapping"),
	"linux.gidMappings.size":                                shown("TestUserNamespaceMapping"),
	"linux.sysctl":                                          shown("TestSysctlInNetns"),
	"linux.resources.devices.allow":                         shown("TestCgroupResources"),
	"linux.resources.devices.type":                          shown("TestCgroupResources"),
	"linux.resources.devices.major":                         shown("TestCgroupResources"),
	"linux.resources.devices.minor":                         shown("TestCgroupResources"),
	"linux.resources.devices.access":                        shown("TestCgroupResources"),
	"linux.resources.memory.limit":                          shown("TestCgroupResources"),
	"linux.resources.memory.reservation":                    shown("TestManagerRealCgroupV1"),
	"linux.resources.memory.swap":                           shown("TestManagerRealCgroupV1"),
	"linux.resources.memory.kernel":                         shown("TestCgroupResourceExtras"),
	"linux.resources.memory.kernelTCP":                      shown("TestManagerRealCgroupV1"),
	"linux.resources.memory.swappiness":                     shown("TestManagerRealCgroupV1"),
	"linux.resources.memory.disableOOMKiller":               shown("TestManagerRealCgroupV1"),
	"linux.resources.memory.useHierarchy":                   shown("TestCgroupResourceExtras"),
	"linux.resources.memory.checkBeforeUpdate":              shown("TestCgroupResourceExtras"),
	"linux.resources.cpu.shares":                            shown("TestCgroupResources"),
	"linux.resources.cpu.quota":                             shown("TestCgroupResources"),
	"linux.resources.cpu.burst":                             shown("TestValidateAcceptsV2Fields"),
	"linux.resources.cpu.period":                            shown("TestCgroupResources"),
	"linux.resources.cpu.realtimeRuntime":                   shown("TestSchedulerRealtime"),
	"linux.resources.cpu.realtimePeriod":                    shown("TestSchedulerRealtime"),
	"linux.resources.cpu.cpus":                              shown("TestCgroupResources"),
	"linux.resources.cpu.mems":                              shown("TestManagerRealCgroupV1"),
	"linux.resources.cpu.idle":                              shown("TestValidateAcceptsV2Fields"),
	"linux.resources.pids.limit":                            shown("TestCgroupResources"),
	"linux.resources.blockIO.weight":                        shown("TestValidateResourcesAccepts"),
	"linux.resources.blockIO.leafWeight":                    shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.weightDevice.major":            shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.weightDevice.minor":            shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.weightDevice.weight":           shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.weightDevice.leafWeight":       shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleReadBpsDevice.major":   shown("TestMergeResourcesKeepsUnsetValues"),
	"linux.resources.blockIO.throttleReadBpsDevice.minor":   shown("TestMergeResourcesKeepsUnsetValues"),
	"linux.resources.blockIO.throttleReadBpsDevice.rate":    shown("TestIOWeight"),
	"linux.resources.blockIO.throttleWriteBpsDevice.major":  shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleWriteBpsDevice.minor":  shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleWriteBpsDevice.rate":   shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleReadIOPSDevice.major":  shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleReadIOPSDevice.minor":  shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleReadIOPSDevice.rate":   shown("TestIOWeight"),
	"linux.resources.blockIO.throttleWriteIOPSDevice.major": shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleWriteIOPSDevice.minor": shown("TestCgroupResourceExtras"),
	"linux.resources.blockIO.throttleWriteIOPSDevice.rate":  shown("TestIOWeight"),
	"linux.resources.hugepageLimits.pageSize":               shown("TestValidateResourcesAccepts"),
	"linux.resources.hugepageLimits.limit":                  shown("TestValidateResourcesAccepts"),
	"linux.resources.network.classID":                       shown("TestCheckMounted"),
	"linux.resources.network.priorities.name":               shown("TestCgroupResourceExtras"),
	"linux.resources.network.priorities.priority":           shown("TestCgroupResourceExtras"),
	"linux.resources.rdma.hcaHandles":                       shown("TestRdmaLine"),
	"linux.resources.rdma.hcaObjects":                       shown("TestRdmaLine"),
	"linux.resources.unified":                               shown("TestValidateResourcesAccepts"),
	"linux.cgroupsPath":                                     shown("TestCgroupRelativePath"),
	"linux.namespaces.type":                                 shown("TestNamespaceJoinByPath"),
	"linux.namespaces.path":                                 shown("TestNamespaceJoinByPath"),
	"linux.devices.path":                                    shown("TestLinuxDevices"),
	"linux.devices.type":                                    shown("TestTimeNamespaceOffsets"),
	"linux.devices.major":                                   shown("TestCgroupResources"),
	"linux.devices.minor":                                   shown("TestLinuxDevices"),
	"linux.devices.fileMode":                                shown("TestLinuxDevices"),
	"linux.devices.uid":                                     shown("TestLinuxDevices"),
	"linux.devices.gid":                                     shown("TestLinuxDevices"),
	"linux.netDevices.name":                                 shown("TestNetDevices"),
	"linux.seccomp.defaultAction":                           shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.defaultErrnoRet":                         shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.architectures":                           shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.flags":                                   shown("TestFilterFlags"),
	"linux.seccomp.listenerPath":                            shown("TestSeccompNotify"),
	"linux.seccomp.listenerMetadata":                        shown("TestSeccompNotify"),
	"linux.seccomp.syscalls.names":                          shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.syscalls.action":                         shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.syscalls.errnoRet":                       shown("TestSeccompENOSYSForNewerSyscalls"),
	"linux.seccomp.syscalls.args.index":                     shown("TestSeccompArgs"),
	"linux.seccomp.syscalls.args.value":                     shown("TestSeccompArgs"),
	"linux.seccomp.syscalls.args.valueTwo":                  shown("TestSeccompArgs"),
	"linux.seccomp.syscalls.args.op":                        shown("TestSeccompArgs"),
	"linux.rootfsPropagation":                               shown("TestRootfsPropagation"),
	"linux.maskedPaths":                                     shown("TestMaskedAndReadonlyPaths"),
	"linux.readonlyPaths":                                   shown("TestMaskedAndReadonlyPaths"),
	"linux.mountLabel":                                      refused("linux.mountLabel"),
	"linux.intelRdt.closID":                                 shown("TestApplyJoinsExistingClosID"),
	"linux.intelRdt.schemata":                               shown("TestApplySchemataLines"),
	"linux.intelRdt.l3CacheSchema":                          shown("TestIntelRdt"),
	"linux.intelRdt.memBwSchema":                            shown("TestApplyNewGroup"),
	"linux.intelRdt.enableMonitoring":                       shown("TestIntelRdt"),
	"linux.memoryPolicy.mode":                               shown("TestMemoryPolicyBind"),
	"linux.memoryPolicy.nodes":                              shown("TestMemoryPolicyBind"),
	"linux.memoryPolicy.flags":                              shown("TestMemoryPolicyBind"),
	"linux.personality.domain":                              shown("TestSchedulerIOPriorityPersonality"),
	"linux.personality.flags":                               shown("TestPersonalityValue"),
	"linux.timeOffsets.secs":                                shown("TestTimeNamespaceOffsets"),
	"linux.timeOffsets.nanosecs":                            shown("TestTimeOffsetsWithUserNamespace"),
}

// leaf is a field of the spec with no struct inside: its JSON path and Go
// field name.
type leaf struct{ path, goName, parentGoName string }

func specLeaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix, goName, parent string)
	walk = func(t reflect.Type, prefix, goName, parent string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			out = append(out, leaf{prefix, goName, parent})
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type, prefix, f.Name, goName)
				continue
			}
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" || name == "-" {
				name = f.Name
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			walk(f.Type, p, f.Name, goName)
		}
	}
	walk(reflect.TypeOf(specs.Spec{}), "", "", "")
	return out
}

func inRefusedSection(path string) string {
	for _, s := range refusedSections {
		if path == s || strings.HasPrefix(path, s+".") {
			return s
		}
	}
	return ""
}

// testBodies maps every Test function of the repository to its source.
func testBodies(t *testing.T) map[string]string {
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	out := map[string]string{}
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(b)
		idx := re.FindAllStringSubmatchIndex(s, -1)
		for i, m := range idx {
			end := len(s)
			if i+1 < len(idx) {
				end = idx[i+1][0]
			}
			out[s[m[2]:m[3]]] += s[m[0]:end]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSpecFieldContract(t *testing.T) {
	leaves := specLeaves()
	bodies := testBodies(t)
	seen := map[string]bool{}
	var missing []string
	for _, l := range leaves {
		seen[l.path] = true
		if inRefusedSection(l.path) != "" {
			continue
		}
		rule, ok := fieldContract[l.path]
		if !ok {
			missing = append(missing, l.path)
			continue
		}
		if rule.test == "" && rule.refuse == "" {
			t.Errorf("%s: the contract names neither a test nor a refusal", l.path)
		}
		if rule.test != "" {
			body, ok := bodies[rule.test]
			switch {
			case !ok:
				t.Errorf("%s: test %s does not exist", l.path, rule.test)
			case !strings.Contains(body, l.goName) && (l.parentGoName == "" || !strings.Contains(body, "."+l.parentGoName)):
				t.Errorf("%s: test %s never mentions %s (nor .%s)", l.path, rule.test, l.goName, l.parentGoName)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("spec field %s is in no contract entry: show its effect in a test or refuse it in Convert", m)
	}
	for path := range fieldContract {
		if !seen[path] {
			t.Errorf("contract entry %s is not a field of the spec", path)
		}
	}
}

// TestSpecFieldRefusals sets every refused field on a valid config and
// checks that Convert fails naming it.
func TestSpecFieldRefusals(t *testing.T) {
	for _, l := range specLeaves() {
		want := inRefusedSection(l.path)
		if rule := fieldContract[l.path]; rule.refuse != "" {
			want = rule.refuse
		}
		if want == "" {
			continue
		}
		t.Run(l.path, func(t *testing.T) {
			dir, s := bundleFor(t)
			setField(t, reflect.ValueOf(s).Elem(), strings.Split(l.path, "."))
			_, err := Convert(s, dir, Options{ID: "x"})
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Convert with %s set = %v, want an error naming %q", l.path, err, want)
			}
		})
	}
}

// setField gives the field at path (JSON names) of v a non-zero value,
// making the structs, slices and maps on the way.
func setField(t *testing.T, v reflect.Value, path []string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
		}
		setField(t, v.Index(0), path)
		return
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		e := reflect.New(v.Type().Elem()).Elem()
		setField(t, e, path)
		v.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), e)
		return
	}
	if len(path) == 0 {
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Interface:
			v.Set(reflect.ValueOf("x"))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v.SetInt(1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			v.SetUint(1)
		default:
			t.Fatalf("cannot set a %s", v.Kind())
		}
		return
	}
	if v.Kind() != reflect.Struct {
		t.Fatalf("path %v goes through a %s", path, v.Kind())
	}
	if f, ok := fieldByJSON(v, path[0]); ok {
		setField(t, f, path[1:])
		return
	}
	t.Fatalf("no field %q in %s", path[0], v.Type())
}

func fieldByJSON(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Anonymous {
			if fv, ok := fieldByJSON(v.Field(i), name); ok {
				return fv, true
			}
			continue
		}
		if strings.Split(f.Tag.Get("json"), ",")[0] == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
