package devices

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64 { return &v }

func TestRuleString(t *testing.T) {
	for _, tc := range []struct {
		in   specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}, "a *:* rwm"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "a", Major: i64(1), Access: "r"}, "a *:* rwm"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}, "c 1:3 rwm"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(136), Access: "rw"}, "c 136:* rw"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "b", Major: i64(-1), Minor: i64(-1), Access: "m"}, "b *:* m"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200)}, "c 10:200 rwm"},
	} {
		r, err := FromSpec(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != tc.want {
			t.Errorf("%+v: got %q want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Type: "c", Access: "rx"}, {Type: "c", Major: i64(-2)}} {
		if _, err := FromSpec(bad); err == nil {
			t.Errorf("%+v: want error", bad)
		}
	}
}

func TestCompile(t *testing.T) {
	rules := []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rw"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "m"}, // merges
		{Allow: true, Type: "b", Major: i64(8), Minor: i64(0), Access: "rwm"},
		{Allow: false, Type: "b", Major: i64(8), Minor: i64(0), Access: "w"}, // removes w
		{Allow: true, Type: "c", Major: i64(4), Minor: i64(1), Access: "r"},
		{Allow: false, Type: "c", Major: i64(4), Minor: i64(1), Access: "r"}, // removes entry
	}
	writes, p, err := Compile(rules)
	list := p.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != len(rules)+1 || writes[0].String() != "a *:* rwm" || writes[0].Allow {
		t.Fatalf("want a leading deny-all, got %v", writes)
	}
	want := "c 1:5 rwm\nc 1:3 rwm\nb 8:0 rm\n"
	if list != want {
		t.Fatalf("list:\n%s\nwant:\n%s", list, want)
	}

	// Rules starting with their own reset get no extra one.
	writes, p, err = Compile([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}})
	if err != nil || len(writes) != 2 || p.List() != "c 1:3 rwm\n" {
		t.Fatalf("got %v %q %v", writes, p.List(), err)
	}
	// Allow-all then denies: the kernel shows only "a *:* rwm".
	_, p, _ = Compile([]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}, {Allow: false, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}})
	if list := p.List(); list != "a *:* rwm\n" || p.AllowsAll() {
		t.Fatalf("allow-all list %q (AllowsAll %v: it has exceptions)", list, p.AllowsAll())
	}
	if _, _, err := Compile([]specs.LinuxDeviceCgroup{{Type: "z"}}); err == nil || err.Error()[:27] != "linux.resources.devices[0]:" {
		t.Fatalf("want field-named error, got %v", err)
	}
}
