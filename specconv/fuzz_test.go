package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fuzzBundle makes a bundle directory with an empty rootfs.
func fuzzBundle(f *testing.F) string {
	dir := f.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	return dir
}

// FuzzLoadSpec feeds arbitrary bytes to LoadSpec as a bundle's
// config.json. It must never panic; an error names the file; a spec it
// accepts is loaded again, unchanged, from its own JSON encoding.
// Seeds: testdata/fuzz/FuzzLoadSpec (rt spec's output, rootless, broken
// and trailing-data configs).
func FuzzLoadSpec(f *testing.F) {
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"}}`))
	f.Add([]byte(`{"ociVersion":"1.0.2"} {}`))
	f.Add([]byte(`{"ociVersion":"1.0.2","nosuchfield":1}`))
	// One bundle for every input: a worker runs one input at a time.
	dir := f.TempDir()
	path := filepath.Join(dir, "config.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		spec, err := LoadSpec(dir)
		if err != nil {
			if spec != nil {
				t.Fatalf("LoadSpec returned a spec and an error: %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name %s: %v", path, err)
			}
			return
		}
		if spec == nil {
			t.Fatal("LoadSpec returned neither a spec nor an error")
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("a loaded spec does not encode: %v", err)
		}
		if err := os.WriteFile(path, again, 0o644); err != nil {
			t.Fatal(err)
		}
		spec2, err := LoadSpec(dir)
		if err != nil {
			t.Fatalf("the encoding of a loaded spec does not load: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(spec, spec2) {
			t.Fatalf("spec changed through its own encoding:\n%#v\n%#v", spec, spec2)
		}
	})
}

// FuzzConvert feeds arbitrary configs (JSON that decodes into a
// specs.Spec) to Convert. It must never panic, return a config or an
// error (never both or neither), and give the same result twice for the
// same input. Seeds: testdata/fuzz/FuzzConvert.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]},"linux":{}}`))
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],"resources":{"devices":[{"allow":false,"access":"rwm"}]}}}`))
	bundle := fuzzBundle(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec specs.Spec
		if err := json.Unmarshal(data, &spec); err != nil {
			t.Skip("not a spec")
		}
		// Convert may fill in the spec: give each call its own copy.
		var spec2 specs.Spec
		if err := json.Unmarshal(data, &spec2); err != nil {
			t.Fatal(err)
		}
		opts := Options{ID: "fuzz"}
		cfg, err := Convert(&spec, bundle, opts)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Convert returned config %v and error %v", cfg != nil, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		cfg2, err2 := Convert(&spec2, bundle, opts)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Convert is not deterministic: %v, then %v", err, err2)
		}
		if err == nil && !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("Convert is not deterministic:\n%#v\n%#v", cfg, cfg2)
		}
	})
}
