// Package gendecode writes specconv's decoder of config.json
// (specconv/decode_gen.go): one function per struct type of the
// runtime-spec's Spec reachable without another platform's section,
// generated from the types themselves so that no field is forgotten when
// the runtime-spec module is updated (specconv's TestDecodeGenUpToDate
// compares the file with what Generate writes now).
//
// The generated functions decode the common, well-formed config.json
// without reflection; whatever they do not handle exactly as
// encoding/json would (a type mismatch, a name that matches a field only
// case-insensitively, a duplicate name, another platform's section) makes
// them give up, and specconv decodes with encoding/json instead.
package gendecode

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/internal/gentypes"
)

// otherPlatforms are Spec's sections for other platforms: present, they
// send the decode to encoding/json (Convert refuses them).
var otherPlatforms = map[string]bool{"solaris": true, "windows": true, "vm": true, "zos": true, "freebsd": true}

type gen struct{ *gentypes.File }

var specsPkg = reflect.TypeOf(specs.Spec{}).PkgPath()

// Generate returns the source of decode_gen.go.
func Generate() ([]byte, error) {
	g := gen{gentypes.New("specconv/internal/gendecode", map[string]string{specsPkg: "specs"})}
	g.Need(reflect.TypeOf(specs.Spec{}))
	for t, ok := g.Next(); ok; t, ok = g.Next() {
		g.structFunc(t)
	}
	return g.Source("specconv", []string{fmt.Sprintf("specs %q", specsPkg)}, []string{fmt.Sprintf("%q", "github.com/rt-runtime/rt/libcontainer/jsonread")})
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func funcName(t reflect.Type) string { return "dec" + t.Name() }

// structFunc writes the decoder of struct type t: a null leaves the
// value as it is (encoding/json's rule for a struct; a pointer to one is
// made nil by decPtr before).
func (g *gen) structFunc(t reflect.Type) {
	if reflect.PointerTo(t).Implements(unmarshaler) || t.Implements(unmarshaler) {
		g.Fail("%s has its own UnmarshalJSON", t.Name())
		return
	}
	fs, err := gentypes.Fields(t)
	if err != nil {
		g.Fail("%v", err)
		return
	}
	if len(fs) > 64 {
		g.Fail("%s has %d fields: the seen-mask holds 64", t.Name(), len(fs))
		return
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	sort.Strings(names)
	g.Printf("var names%s = []string{%s}\n\n", t.Name(), quoteAll(names))
	g.Printf("func %s(d *jsonread.Reader, v *%s) bool {\n", funcName(t), g.TypeName(t))
	g.Printf("\tif d.Null() {\n\t\treturn true\n\t}\n")
	g.Printf("\tvar seen uint64\n")
	g.Printf("\tm := d.Members()\n")
	g.Printf("\tfor key, more := m.Next(); more; key, more = m.Next() {\n")
	g.Printf("\t\tvar ok bool\n")
	g.Printf("\t\tswitch string(key) {\n")
	for i, f := range fs {
		if t == reflect.TypeOf(specs.Spec{}) && otherPlatforms[f.Name] {
			continue
		}
		g.Printf("\t\tcase %q:\n", f.Name)
		g.Printf("\t\t\tok = d.First(&seen, %d) && %s\n", i, g.call(f.Type, "&v."+f.GoName, t.Name()+"."+f.GoName))
	}
	g.Printf("\t\tdefault:\n\t\t\tok = d.Unknown(key, names%s)\n", t.Name())
	g.Printf("\t\t}\n\t\tif !ok {\n\t\t\treturn false\n\t\t}\n\t}\n")
	g.Printf("\treturn m.OK()\n}\n\n")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// call is the expression that decodes the next JSON value into *ptr (of
// type *t), with decode.go's helpers.
func (g *gen) call(t reflect.Type, ptr, where string) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "decPtr(d, " + ptr + ", " + g.fn(t.Elem(), where) + ")"
	case reflect.Slice:
		return "decSlice(d, " + ptr + ", " + g.fn(t.Elem(), where+"[]") + ")"
	case reflect.Map:
		g.checkMapKey(t, where)
		return "decMap(d, " + ptr + ", " + g.fn(t.Elem(), where+"[]") + ")"
	}
	return g.fn(t, where) + "(d, " + ptr + ")"
}

// fn is the decoding function of type t: a func(*jsonread.Reader, *t) bool.
func (g *gen) fn(t reflect.Type, where string) string {
	name := g.TypeName(t)
	if name == "" {
		g.Fail("%s: type %s of another package", where, t)
		return ""
	}
	if reflect.PointerTo(t).Implements(unmarshaler) || t.Implements(unmarshaler) {
		g.Fail("%s: %s has its own UnmarshalJSON", where, t)
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		if name == "string" {
			return "decString"
		}
		return "decNamedString[" + name + "]"
	case reflect.Bool:
		return "decBool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "decInt[" + name + "]"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "decUint[" + name + "]"
	case reflect.Struct:
		g.Need(t)
		return funcName(t)
	case reflect.Pointer, reflect.Slice, reflect.Map:
		// None in the runtime-spec today: a pointer, slice or map as
		// the element of another needs a helper in decode.go first.
		g.Fail("%s: a %s as an element: decode.go has no helper for it", where, t.Kind())
		return ""
	}
	g.Fail("%s: kind %s is not handled", where, t.Kind())
	return ""
}

// checkMapKey refuses a map whose key is not a plain string.
func (g *gen) checkMapKey(t reflect.Type, where string) {
	if t.Key().Kind() != reflect.String || t.Key().Name() != "string" {
		g.Fail("%s: map key %s", where, t.Key())
	}
}
