// Package genencode writes libcontainer's encoder of config.json
// (libcontainer/config_encode_gen.go): one function per struct type
// reachable from configs.Config, generated from the types themselves so
// that no field is forgotten when they change (libcontainer's
// TestEncodeGenUpToDate compares the file with what Generate writes now).
// The functions write what encoding/json's Marshal writes (field order,
// omitempty, nil slices and maps as null, map keys sorted, strings
// escaped as it escapes them: package jsonwrite), without the reflection
// whose first use in a process costs ~0.5 ms of CPU for this type.
// Anything the generator does not know how to write exactly as Marshal
// does (a float, an interface, a []byte, a custom MarshalJSON, the
// "string" or "omitzero" options, an embedded field other than an
// untagged struct) is refused.
package genencode

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/internal/gentypes"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

var (
	configsPkg = reflect.TypeOf(configs.Config{}).PkgPath()
	specsPkg   = reflect.TypeOf(specs.Spec{}).PkgPath()
	marshaler  = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarsh  = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

type gen struct{ *gentypes.File }

// Generate returns the source of config_encode_gen.go.
func Generate() ([]byte, error) {
	g := gen{gentypes.New("libcontainer/internal/genencode", map[string]string{configsPkg: "configs", specsPkg: "specs"})}
	g.Need(reflect.TypeOf(configs.Config{}))
	for t, ok := g.Next(); ok; t, ok = g.Next() {
		g.structFunc(t)
	}
	return g.Source("libcontainer", []string{fmt.Sprintf("specs %q", specsPkg)},
		[]string{fmt.Sprintf("%q", configsPkg), fmt.Sprintf("%q", "github.com/rt-runtime/rt/libcontainer/jsonwrite")})
}

func funcName(t reflect.Type) string {
	if t.PkgPath() == specsPkg {
		return "encSpecs" + t.Name()
	}
	return "enc" + t.Name()
}

// fields are t's fields (gentypes.Fields) with what this generator
// handles of their tags: the omitempty option alone, and names that need
// no escaping.
func fields(t reflect.Type) ([]gentypes.Field, error) {
	fs, err := gentypes.Fields(t)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Options != "" && f.Options != "omitempty" {
			return nil, fmt.Errorf("%s.%s: tag options %q not handled", t.Name(), f.GoName, f.Options)
		}
		for _, c := range f.Name {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return nil, fmt.Errorf("%s.%s: JSON name %q needs escaping", t.Name(), f.GoName, f.Name)
			}
		}
	}
	return fs, nil
}

func (g *gen) checkType(t reflect.Type, where string) bool {
	if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) ||
		t.Implements(textMarsh) || reflect.PointerTo(t).Implements(textMarsh) {
		g.Fail("%s: %s has its own MarshalJSON or MarshalText", where, t)
		return false
	}
	return true
}

// structFunc writes the encoder of struct type t.
func (g *gen) structFunc(t reflect.Type) {
	if !g.checkType(t, t.Name()) {
		return
	}
	fs, err := fields(t)
	if err != nil {
		g.Fail("%v", err)
		return
	}
	g.Printf("func %s(b []byte, v *%s) []byte {\n", funcName(t), g.TypeName(t))
	g.Printf("\tstart := len(b)\n\tb = append(b, '{')\n")
	for _, f := range fs {
		where := t.Name() + "." + f.GoName
		val := g.value(f.Type, "v."+f.GoName, where)
		key := "`\"" + f.Name + "\":`"
		if f.Options == "omitempty" {
			if cond := g.nonEmpty(f.Type, "v."+f.GoName, where); cond != "" {
				g.Printf("\tif %s {\n\t\tb = jsonwrite.Key(b, start, %s)\n\t\tb = %s\n\t}\n", cond, key, val)
				continue
			}
		}
		g.Printf("\tb = jsonwrite.Key(b, start, %s)\n\tb = %s\n", key, val)
	}
	g.Printf("\treturn append(b, '}')\n}\n\n")
}

// nonEmpty is the condition under which an omitempty field is written
// ("" for a struct: encoding/json never omits one).
func (g *gen) nonEmpty(t reflect.Type, expr, where string) string {
	switch t.Kind() {
	case reflect.String:
		return expr + ` != ""`
	case reflect.Bool:
		return expr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return expr + " != 0"
	case reflect.Pointer:
		return expr + " != nil"
	case reflect.Slice, reflect.Map:
		return "len(" + expr + ") != 0"
	case reflect.Struct:
		return ""
	}
	g.Fail("%s: omitempty of kind %s", where, t.Kind())
	return ""
}

// value is the expression that appends expr (of type t) to b.
func (g *gen) value(t reflect.Type, expr, where string) string {
	if !g.checkType(t, where) {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		if t.Name() == "string" && t.PkgPath() == "" {
			return "jsonwrite.String(b, " + expr + ")"
		}
		return "jsonwrite.String(b, string(" + expr + "))"
	case reflect.Bool:
		if t.PkgPath() != "" {
			g.Fail("%s: named bool %s", where, t)
		}
		return "jsonwrite.Bool(b, " + expr + ")"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "jsonwrite.Int(b, " + expr + ")"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "jsonwrite.Uint(b, " + expr + ")"
	case reflect.Struct:
		g.TypeName(t)
		g.Need(t)
		return funcName(t) + "(b, &" + expr + ")"
	case reflect.Pointer:
		return "jsonwrite.Ptr(b, " + expr + ", " + g.elem(t.Elem(), where+"*") + ")"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			g.Fail("%s: a byte slice (base64) is not handled", where)
		}
		return "jsonwrite.Slice(b, " + expr + ", " + g.elem(t.Elem(), where+"[]") + ")"
	case reflect.Map:
		if t.Key().Kind() != reflect.String || !g.checkType(t.Key(), where+" key") {
			g.Fail("%s: map key %s", where, t.Key())
		}
		return "jsonwrite.Map(b, " + expr + ", " + g.elem(t.Elem(), where+"[]") + ")"
	}
	g.Fail("%s: kind %s is not handled", where, t.Kind())
	return ""
}

// elem is a func([]byte, *t) []byte appending a value of type t.
func (g *gen) elem(t reflect.Type, where string) string {
	if !g.checkType(t, where) {
		return ""
	}
	name := g.TypeName(t)
	switch t.Kind() {
	case reflect.String:
		return "jsonwrite.StringOf[" + name + "]"
	case reflect.Bool:
		if t.PkgPath() != "" {
			g.Fail("%s: named bool %s", where, t)
		}
		return "jsonwrite.BoolOf"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "jsonwrite.IntOf[" + name + "]"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "jsonwrite.UintOf[" + name + "]"
	case reflect.Struct:
		g.Need(t)
		return funcName(t)
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return "func(b []byte, p *" + name + ") []byte { return " + g.value(t, "*p", where) + " }"
	}
	g.Fail("%s: kind %s is not handled", where, t.Kind())
	return ""
}
