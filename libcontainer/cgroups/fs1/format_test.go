package fs1

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDeviceValueAndRdma(t *testing.T) {
	if got := deviceValue(specs.LinuxBlockIODevice{Major: 8, Minor: 0}, 1048576); got != "8:0 1048576" {
		t.Errorf("deviceValue: %q", got)
	}
	if got := rdmaLine("mlx4_0", specs.LinuxRdma{HcaHandles: u32(2), HcaObjects: u32(2000)}); got != "mlx4_0 hca_handle=2 hca_object=2000" {
		t.Errorf("rdmaLine: %q", got)
	}
	if got := rdmaLine("mlx4_0", specs.LinuxRdma{HcaObjects: u32(7)}); got != "mlx4_0 hca_object=7" {
		t.Errorf("rdmaLine: %q", got)
	}
}

func TestDeviceRuleString(t *testing.T) {
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
		r, err := toDeviceRule(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != tc.want {
			t.Errorf("%+v: got %q want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Type: "c", Access: "rx"}, {Type: "c", Major: i64(-2)}} {
		if _, err := toDeviceRule(bad); err == nil {
			t.Errorf("%+v: want error", bad)
		}
	}
}

func TestDeviceWrites(t *testing.T) {
	rules := []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rw"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "m"}, // merges
		{Allow: true, Type: "b", Major: i64(8), Minor: i64(0), Access: "rwm"},
		{Allow: false, Type: "b", Major: i64(8), Minor: i64(0), Access: "w"}, // removes w
		{Allow: true, Type: "c", Major: i64(4), Minor: i64(1), Access: "r"},
		{Allow: false, Type: "c", Major: i64(4), Minor: i64(1), Access: "r"}, // removes entry
	}
	writes, list, err := deviceWrites(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != len(rules)+1 || writes[0].String() != "a *:* rwm" || writes[0].allow {
		t.Fatalf("want a leading deny-all, got %v", writes)
	}
	want := "c 1:5 rwm\nc 1:3 rwm\nb 8:0 rm\n"
	if list != want {
		t.Fatalf("list:\n%s\nwant:\n%s", list, want)
	}

	// Rules starting with their own reset get no extra one.
	writes, list, err = deviceWrites([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}})
	if err != nil || len(writes) != 2 || list != "c 1:3 rwm\n" {
		t.Fatalf("got %v %q %v", writes, list, err)
	}
	// Allow-all then denies: the kernel shows only "a *:* rwm".
	_, list, _ = deviceWrites([]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}, {Allow: false, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}})
	if list != "a *:* rwm\n" {
		t.Fatalf("allow-all list %q", list)
	}
	if _, _, err := deviceWrites([]specs.LinuxDeviceCgroup{{Type: "z"}}); err == nil || err.Error()[:27] != "linux.resources.devices[0]:" {
		t.Fatalf("want field-named error, got %v", err)
	}
}
