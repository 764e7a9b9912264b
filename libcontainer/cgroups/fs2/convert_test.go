package fs2

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/events"
)

func TestSwapV2(t *testing.T) {
	for _, tc := range []struct{ swap, limit, want int64 }{
		{0, -1, -1},   // unlimited memory, swap unset: unlimited swap
		{-1, 100, -1}, // unlimited
		{0, 100, 0},   // unset
		{300, 100, 200},
		{100, 100, 0}, // no swap
	} {
		got, err := SwapV2(tc.swap, tc.limit)
		if err != nil || got != tc.want {
			t.Errorf("SwapV2(%d, %d) = %d, %v; want %d", tc.swap, tc.limit, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ swap, limit int64 }{{100, 0}, {100, -1}, {50, 100}} {
		if _, err := SwapV2(tc.swap, tc.limit); err == nil {
			t.Errorf("SwapV2(%d, %d): want an error", tc.swap, tc.limit)
		}
	}
}

func TestCPUWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 39, 262144: 10000, 512: 20} {
		if got := CPUWeight(shares); got != want {
			t.Errorf("CPUWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func TestCPUMax(t *testing.T) {
	for _, tc := range []struct {
		quota  int64
		period uint64
		want   string
	}{
		{0, 0, ""}, {50000, 0, "50000"}, {50000, 100000, "50000 100000"}, {-1, 0, "max"}, {0, 20000, "max 20000"}, {-1, 20000, "max 20000"},
	} {
		if got := CPUMax(tc.quota, tc.period); got != tc.want {
			t.Errorf("CPUMax(%d, %d) = %q, want %q", tc.quota, tc.period, got, tc.want)
		}
	}
}

func TestIOWeight(t *testing.T) {
	for w, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000, 5: 1} {
		if got := IOWeight(w); got != want {
			t.Errorf("IOWeight(%d) = %d, want %d", w, got, want)
		}
	}
	d := specs.LinuxThrottleDevice{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}
	if got := ioMaxLine(d, "rbps"); got != "8:0 rbps=1048576" {
		t.Errorf("got %q", got)
	}
	d.Rate = 0
	if got := ioMaxLine(d, "wiops"); got != "8:0 wiops=max" {
		t.Errorf("got %q", got)
	}
}

func TestRdmaLine(t *testing.T) {
	h, o := uint32(2), uint32(2000)
	if got := RdmaLine("mlx4_0", specs.LinuxRdma{HcaHandles: &h, HcaObjects: &o}); got != "mlx4_0 hca_handle=2 hca_object=2000" {
		t.Errorf("got %q", got)
	}
	if got := RdmaLine("mlx4_0", specs.LinuxRdma{HcaObjects: &o}); got != "mlx4_0 hca_object=2000" {
		t.Errorf("got %q", got)
	}
	if got := RdmaLine("mlx4_0", specs.LinuxRdma{}); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestParseIOStat(t *testing.T) {
	bytes, ios, err := ParseIOStat("8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=0 rios=1 wios=0\n")
	if err != nil {
		t.Fatal(err)
	}
	wantBytes := []events.BlkioEntry{{Major: 8, Minor: 0, Op: "Read", Value: 100}, {Major: 8, Minor: 0, Op: "Write", Value: 200}, {Major: 253, Minor: 1, Op: "Read", Value: 1}, {Major: 253, Minor: 1, Op: "Write", Value: 0}}
	wantIOs := []events.BlkioEntry{{Major: 8, Minor: 0, Op: "Read", Value: 3}, {Major: 8, Minor: 0, Op: "Write", Value: 4}, {Major: 253, Minor: 1, Op: "Read", Value: 1}, {Major: 253, Minor: 1, Op: "Write", Value: 0}}
	if !reflect.DeepEqual(bytes, wantBytes) || !reflect.DeepEqual(ios, wantIOs) {
		t.Fatalf("got %v %v", bytes, ios)
	}
	if _, _, err := ParseIOStat("garbage rbytes=1"); err == nil {
		t.Fatal("want an error")
	}
}

func TestParsePSI(t *testing.T) {
	psi, err := ParsePSI("some avg10=1.50 avg60=0.00 avg300=0.25 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n")
	if err != nil {
		t.Fatal(err)
	}
	want := &events.PSIStats{Some: events.PSIData{Avg10: 1.5, Avg300: 0.25, Total: 1234}, Full: events.PSIData{Total: 7}}
	if !reflect.DeepEqual(psi, want) {
		t.Fatalf("got %+v", psi)
	}
}

func TestCheckUnifiedKey(t *testing.T) {
	avail := map[string]bool{"memory": true, "pids": true}
	for _, k := range []string{"memory.high", "pids.max", "cgroup.max.depth"} {
		if err := CheckUnifiedKey(k, avail); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	for k, want := range map[string]string{
		"../memory.max": `linux.resources.unified["../memory.max"]: not a cgroup interface file name`,
		"memory/x.max":  `linux.resources.unified["memory/x.max"]: not a cgroup interface file name`,
		"io.max":        `linux.resources.unified["io.max"]: controller "io" is not in cgroup.controllers (memory pids)`,
		"memory":        `linux.resources.unified["memory"]: not of the form controller.name`,
	} {
		err := CheckUnifiedKey(k, avail)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", k, err, want)
		}
	}
	if err := CheckUnifiedKey("io.max", avail); !errors.Is(err, ErrControllerUnavailable) {
		t.Errorf("got %v, want ErrControllerUnavailable", err)
	}
}

func TestCheckAvailableNamesField(t *testing.T) {
	lim := int64(10)
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &lim}, Unified: map[string]string{"io.weight": "100"}}
	err := checkAvailable(r, map[string]bool{"pids": true}, "/sys/fs/cgroup/x")
	if err == nil || !strings.HasPrefix(err.Error(), `linux.resources.unified["io.weight"]: controller "io" is not in /sys/fs/cgroup/x/cgroup.controllers (pids)`) {
		t.Fatalf("got %v", err)
	}
	err = checkAvailable(r, map[string]bool{"io": true}, "/x")
	if err == nil || !strings.HasPrefix(err.Error(), `linux.resources.pids: controller "pids"`) {
		t.Fatalf("got %v", err)
	}
	if err := checkAvailable(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, nil, "/x"); err != nil {
		t.Fatalf("devices need no controller: %v", err)
	}
}
