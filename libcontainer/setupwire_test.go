package libcontainer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// fillAll sets every field reachable from v (JSON-visible ones) to a value
// that is not its zero: a string naming its path, 7 for numbers, true, one
// element in slices and maps, pointers allocated.
func fillAll(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fillAll(v.Field(i), path+"."+f.Name)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillAll(s.Index(0), path+"[0]")
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillAll(k, path+"{key}")
		e := reflect.New(v.Type().Elem()).Elem()
		fillAll(e, path+"{}")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString(strings.TrimPrefix(path, "."))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Interface:
		// (none in these types)
	default:
		panic(fmt.Sprintf("fillAll: %s: kind %s", path, v.Kind()))
	}
}

// What the parent sends (initView's config, setupProcess's process) comes
// out of the set-up child's decoding whole: every field set, on a config
// and a process with every field set, so that a field added to
// configs.Config (or kept by initView) that setupWireConfig lacks fails here.
func TestSetupWireCarriesInitView(t *testing.T) {
	var full configs.Config
	fillAll(reflect.ValueOf(&full).Elem(), "")
	var st specs.State
	fillAll(reflect.ValueOf(&st).Elem(), "")
	sent := &initConfig{Config: initView(&full), Process: setupProcess(full.Process), HasParentHooks: true, State: &st}
	data, err := json.Marshal(sent)
	if err != nil {
		t.Fatal(err)
	}
	var w setupWire
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	got := w.initConfig()
	if !reflect.DeepEqual(got.Config, sent.Config) {
		gj, _ := json.Marshal(got.Config)
		sj, _ := json.Marshal(sent.Config)
		t.Errorf("config after the set-up child's decoding differs from initView's:\n got %s\nsent %s", gj, sj)
	}
	if !reflect.DeepEqual(got.Process, sent.Process) || !reflect.DeepEqual(got.State, sent.State) || !got.HasParentHooks {
		t.Errorf("process, state or has_parent_hooks lost: got %+v %+v %v", got.Process, got.State, got.HasParentHooks)
	}
	// initView drops these (the runtime side or the C init applies them).
	for name, dropped := range map[string]bool{
		"Seccomp": sent.Config.Seccomp == nil, "Cgroup.Resources": sent.Config.Cgroup.Resources == nil,
		"Process": sent.Config.Process == nil, "Annotations": sent.Config.Annotations == nil,
		"Hooks.StartContainer": sent.Config.Hooks.StartContainer == nil,
	} {
		if !dropped {
			t.Errorf("initView keeps %s: setupWireConfig has no field for it", name)
		}
	}
}

// setupProcess keeps what the Go set-up child reads of the process.
func TestSetupProcessKeeps(t *testing.T) {
	var p specs.Process
	fillAll(reflect.ValueOf(&p).Elem(), "")
	s := setupProcess(&p)
	if !s.Terminal || s.ConsoleSize == nil || !reflect.DeepEqual(s.User, p.User) || len(s.Env) != 1 || s.Cwd != p.Cwd {
		t.Errorf("setupProcess lost a field the set-up child reads: %+v", s)
	}
	if s.Args != nil || s.Capabilities != nil || s.Rlimits != nil {
		t.Errorf("setupProcess sends what the C init applies from the plan: %+v", s)
	}
	if setupProcess(nil) != nil {
		t.Error("setupProcess(nil) != nil")
	}
}
