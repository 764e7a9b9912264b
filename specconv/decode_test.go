package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/specconv/internal/gendecode"
)

// TestDecodeGenUpToDate: decode_gen.go is what gendecode writes for the
// runtime-spec module in go.mod (go generate ./specconv after an update).
func TestDecodeGenUpToDate(t *testing.T) {
	want, err := gendecode.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("decode_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("decode_gen.go is not what gendecode writes now: run go generate ./specconv")
	}
}

// slowDecode is LoadSpec's decoding with encoding/json.
func slowDecode(data []byte) (*specs.Spec, error) {
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errTrailing
	}
	return &s, nil
}

var errTrailing = errors.New("trailing data after the JSON object")

// checkSameDecode fails t if decodeSpec accepts data but encoding/json
// refuses it or decodes something else.
func checkSameDecode(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	got, ok := decodeSpec(data)
	if !ok {
		return false
	}
	want, err := slowDecode(data)
	if err != nil {
		t.Fatalf("decodeSpec accepted what encoding/json refuses (%v): %q", err, data)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("decodeSpec and encoding/json differ on %q:\n got %s\nwant %s", data, g, w)
	}
	return true
}

// decodeSeeds are documents that exercise the decoder's edges: every one
// must decode as encoding/json decodes it, or be left to it.
var decodeSeeds = []string{
	`{}`,
	`{"ociVersion":"1.2.0","process":{"args":["sh","-c","echo \"hi\" \\ \u00e9 \ud83d\ude00 \/"],"env":[],"user":{"uid":0,"gid":4294967295,"additionalGids":[1,2]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":0}]},"root":{"path":"rootfs","readonly":true}}`,
	`{"process":null,"root":null,"mounts":null,"annotations":null,"linux":{"sysctl":null,"resources":null}}`,
	`{"hostname":null,"process":{"terminal":null,"args":[null,"x"],"consoleSize":{"height":1,"width":2}}}`,
	`{"mounts":[],"annotations":{},"linux":{"namespaces":[{}],"maskedPaths":[],"sysctl":{"a":"1","a":"2"}}}`,
	`{"ociVersion":"1.0.0","ociversion":"x"}`,
	`{"OCIVERSION":"1.0.0"}`,
	`{"process":{"Args":["a"]}}`,
	`{"hostname":"a","hostname":"b"}`,
	`{"linux":{"resources":{"memory":{"limit":-1,"swap":1e3}}}}`,
	`{"linux":{"resources":{"memory":{"limit":1.0}}}}`,
	`{"linux":{"resources":{"cpu":{"shares":-1}}}}`,
	`{"linux":{"resources":{"blockIO":{"weight":65535,"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
	`{"linux":{"resources":{"blockIO":{"weight":65536}}}}`,
	`{"linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":3,"fileMode":438,"uid":0}]}}`,
	`{"linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"timeOffsets":{"monotonic":{"secs":1,"nanosecs":2}}}}`,
	`{"windows":{}}`,
	`{"vm":null}`,
	`{"unknown":{"deep":[1,2,{"x":null,"y":[true,false,-0.5e-3]}]},"hostname":"h"}`,
	`{"unknown":tru}`,
	`{"unknown":01}`,
	`{"hostname":"a\u0000b"}`,
	`{"hostname":"\ud800"}`,
	`{"hostname":"\xff"}`,
	"{\"hostname\":\"a\tb\"}",
	`{"hostname":"x"} {}`,
	`{"hostname":"x"}   `,
	`  {"hostname":"x"}`,
	`[]`,
	`null`,
	``,
	`{"hostname":"x",}`,
	`{"hooks":{"prestart":[{"path":"/bin/true","timeout":5}],"poststop":[]}}`,
	`{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valueTwo":2,"op":"SCMP_CMP_EQ"}]}]}}}`,
	`{"process":{"capabilities":{"bounding":["CAP_KILL"]},"ioPriority":{"class":"IOPRIO_CLASS_RT","priority":1},"scheduler":{"policy":"SCHED_OTHER","nice":-20}}}`,
	`{"linux":{"intelRdt":{"closID":"x","enableMonitoring":true},"personality":{"domain":"LINUX"},"netDevices":{"eth0":{"name":"x"}}}}`,
}

// TestDecodeSpecLikeEncodingJSON runs the seeds and every config.json of
// the tree's test data through both decoders.
func TestDecodeSpecLikeEncodingJSON(t *testing.T) {
	fast := 0
	for _, s := range decodeSeeds {
		if checkSameDecode(t, []byte(s)) {
			fast++
		}
	}
	files, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The fuzz corpus files hold Go-quoted values.
		if v, ok := corpusBytes(data); ok && checkSameDecode(t, v) {
			fast++
		}
	}
	ex, _ := json.Marshal(Example())
	if !checkSameDecode(t, ex) {
		t.Error("rt spec's config.json is left to encoding/json")
	}
	t.Logf("%d documents decoded without reflection", fast)
}

// FuzzDecodeSpec: whatever the document, decodeSpec either leaves it to
// encoding/json or decodes what encoding/json decodes.
func FuzzDecodeSpec(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	ex, _ := json.Marshal(Example())
	f.Add(ex)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
	})
}

// corpusBytes returns the []byte value of a fuzz corpus file ("go test
// fuzz v1" then []byte("...")), if it has one.
func corpusBytes(file []byte) ([]byte, bool) {
	for _, line := range strings.Split(string(file), "\n") {
		if q, ok := strings.CutPrefix(line, "[]byte("); ok {
			v, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
			return []byte(v), err == nil
		}
	}
	return nil, false
}
