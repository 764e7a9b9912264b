package gentypes

import (
	"reflect"
	"testing"
)

type inner struct {
	Major int64 `json:"major"`
}

type outer struct {
	inner
	Name    string `json:"name,omitempty"`
	Skipped string `json:"-"`
	Plain   bool
	hidden  int
}

// Fields: as encoding/json sees them: the embedded struct's flattened,
// "-" left out, an untagged field by its Go name, unexported ones left
// out.
func TestFields(t *testing.T) {
	fs, err := Fields(reflect.TypeOf(outer{}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Name+"="+f.GoName+"/"+f.Options)
	}
	want := []string{"major=inner.Major/", "name=Name/omitempty", "Plain=Plain/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Fields = %q, want %q", got, want)
	}
	_ = outer{}.hidden
}

type clash struct {
	A string `json:"id"`
	B string `json:"ID"`
}

func TestFieldsRefusesCaseClash(t *testing.T) {
	if _, err := Fields(reflect.TypeOf(clash{})); err == nil {
		t.Fatal("two names differing in case accepted")
	}
}
