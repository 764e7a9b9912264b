package libcontainer

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/internal/genencode"
)

// TestEncodeGenUpToDate: config_encode_gen.go is what genencode writes for
// the types as they are now (go generate ./libcontainer after a change of
// configs.Config or an update of the runtime-spec module).
func TestEncodeGenUpToDate(t *testing.T) {
	want, err := genencode.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("config_encode_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("config_encode_gen.go is not what genencode writes now: run go generate ./libcontainer")
	}
}

// tricky are the characters the random strings are made of: those
// encoding/json escapes (HTML-safe, U+2028/9, controls) and others.
var tricky = []rune{'a', 'Z', '0', ' ', '/', '<', '>', '&', '"', '\\', '\n', '\r', '\t', '\b', '\f', 0, 1, 0x1f, 0x7f, 'é', '\u2028', '\u2029', '😀', '\ufffd'}

func randString(r *rand.Rand) string {
	var sb strings.Builder
	for n := r.IntN(6); n > 0; n-- {
		sb.WriteRune(tricky[r.IntN(len(tricky))])
	}
	return sb.String()
}

// fill sets v (and everything under it) at random: nil, empty and
// filled slices, maps and pointers; zero and non-zero values, so that
// every omitempty is seen both ways.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if r.IntN(3) > 0 {
			v.SetString(randString(r))
		}
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch r.IntN(3) {
		case 1:
			v.SetInt(int64(r.IntN(100)) - 50)
		case 2:
			v.SetInt(int64(r.Uint64()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		switch r.IntN(3) {
		case 1:
			v.SetUint(uint64(r.IntN(100)))
		case 2:
			v.SetUint(r.Uint64())
		}
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		switch r.IntN(3) {
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case 2:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 4)
			for i := 0; i < s.Len(); i++ {
				fill(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(3) {
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		case 2:
			m := reflect.MakeMap(v.Type())
			for n := 1 + r.IntN(3); n > 0; n-- {
				k := reflect.New(v.Type().Key()).Elem()
				k.SetString(randString(r))
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	default:
		panic("fill: kind " + v.Kind().String())
	}
}

func checkEncode(t *testing.T, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed>>7))
	var c configs.Config
	fill(r, reflect.ValueOf(&c).Elem())
	want, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeConfig(&c); !bytes.Equal(got, want) {
		t.Fatalf("seed %d: encodeConfig differs from json.Marshal:\n got %s\nwant %s", seed, got, want)
	}
}

// TestEncodeLikeJSON: encodeConfig writes what json.Marshal writes, for random
// configurations that set and leave out every field in turn.
func TestEncodeLikeJSON(t *testing.T) {
	for seed := uint64(0); seed < 3000; seed++ {
		checkEncode(t, seed)
	}
	// An empty one, and one that only has invalid UTF-8 (which Marshal
	// writes as U+FFFD, as such or escaped: compared once read back).
	var empty configs.Config
	if want, _ := json.Marshal(&empty); !bytes.Equal(encodeConfig(&empty), want) {
		t.Fatalf("empty config: %s, want %s", encodeConfig(&empty), want)
	}
	bad := configs.Config{ID: "a\xffb", Annotations: map[string]string{"\xfe": "\xc3"}}
	var got, want configs.Config
	wantJSON, _ := json.Marshal(&bad)
	if err := json.Unmarshal(encodeConfig(&bad), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("invalid UTF-8: %+v, want %+v", got, want)
	}
}

// FuzzEncodeConfig is TestEncodeLikeJSON with the fuzzer's seeds.
func FuzzEncodeConfig(f *testing.F) {
	f.Add(uint64(1))
	f.Fuzz(checkEncode)
}

// TestPoststopViewReadsConfig: delete's poststopView reads the poststop
// hooks of config.json as the whole config would (random configurations).
func TestPoststopViewReadsConfig(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		var c configs.Config
		fill(r, reflect.ValueOf(&c).Elem())
		var v poststopView
		if err := json.Unmarshal(encodeConfig(&c), &v); err != nil {
			t.Fatal(err)
		}
		var whole configs.Config
		if err := json.Unmarshal(encodeConfig(&c), &whole); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.Hooks.Poststop, whole.Hooks.Poststop) {
			t.Fatalf("seed %d: view %+v, whole config %+v", seed, v.Hooks.Poststop, whole.Hooks.Poststop)
		}
	}
}
