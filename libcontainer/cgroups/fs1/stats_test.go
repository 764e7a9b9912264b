package fs1

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rt-runtime/rt/libcontainer/events"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParseBlkio(t *testing.T) {
	got, err := parseBlkio("8:0 Read 4096\n8:0 Write 0\n8:16 Sync 7\nTotal 4103\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []events.BlkioEntry{{Major: 8, Minor: 0, Op: "Read", Value: 4096}, {Major: 8, Op: "Write"}, {Major: 8, Minor: 16, Op: "Sync", Value: 7}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got, err := parseBlkio("253:1 99\n"); err != nil || got[0].Value != 99 || got[0].Op != "" {
		t.Fatalf("two-field line: %+v %v", got, err)
	}
	for _, bad := range []string{"8 Read 1", "x:0 Read 1", "8:0 Read", "8:0 a b c"} {
		if _, err := parseBlkio(bad); err == nil {
			t.Errorf("parseBlkio(%q): want error", bad)
		}
	}
}

func TestCPUAcctStats(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"cpuacct.usage":        "3000\n",
		"cpuacct.usage_percpu": "1000 2000 \n",
		"cpuacct.stat":         "user 150\nsystem 20\n",
		"cpuacct.usage_all":    "cpu user system\n0 600 400\n1 1500 500\n",
	})
	s := events.NewStats()
	if err := cpuacctStats(dir, s); err != nil {
		t.Fatal(err)
	}
	want := events.CPUUsage{Total: 3000, Percpu: []uint64{1000, 2000}, PercpuUser: []uint64{600, 1500},
		PercpuKernel: []uint64{400, 500}, User: 1500000000, Kernel: 200000000}
	if !reflect.DeepEqual(s.CPU.Usage, want) {
		t.Fatalf("got %+v, want %+v", s.CPU.Usage, want)
	}
}

func TestMemoryStatsOptionalFamilies(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"memory.stat":               "cache 8192\nrss 4096\n",
		"memory.usage_in_bytes":     "12288\n",
		"memory.max_usage_in_bytes": "20000\n",
		"memory.failcnt":            "3\n",
		"memory.limit_in_bytes":     "67108864\n",
	})
	s := events.NewStats()
	if err := memoryStats(dir, s); err != nil {
		t.Fatal(err)
	}
	if s.Memory.Cache != 8192 || s.Memory.Raw["rss"] != 4096 {
		t.Fatalf("cache/raw: %+v", s.Memory)
	}
	if want := (events.MemoryEntry{Limit: 67108864, Usage: 12288, Max: 20000, Failcnt: 3}); s.Memory.Usage != want {
		t.Fatalf("usage = %+v, want %+v", s.Memory.Usage, want)
	}
	if s.Memory.Swap != (events.MemoryEntry{}) {
		t.Fatalf("swap without memsw files = %+v, want empty", s.Memory.Swap)
	}
	os.Remove(filepath.Join(dir, "memory.failcnt"))
	if err := memoryStats(dir, events.NewStats()); err == nil {
		t.Fatal("want an error for a missing memory.failcnt")
	}
}

func TestPidsStatsMaxIsZero(t *testing.T) {
	s := events.NewStats()
	if err := pidsStats(writeFiles(t, map[string]string{"pids.current": "3\n", "pids.max": "max\n"}), s); err != nil {
		t.Fatal(err)
	}
	if s.Pids != (events.Pids{Current: 3}) {
		t.Fatalf("got %+v", s.Pids)
	}
	if err := pidsStats(writeFiles(t, map[string]string{"pids.current": "3\n", "pids.max": "20\n"}), s); err != nil || s.Pids.Limit != 20 {
		t.Fatalf("got %+v, %v", s.Pids, err)
	}
}

func TestHugetlbStats(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"hugetlb.2MB.usage_in_bytes":      "2097152\n",
		"hugetlb.2MB.max_usage_in_bytes":  "4194304\n",
		"hugetlb.2MB.failcnt":             "1\n",
		"hugetlb.2MB.rsvd.usage_in_bytes": "0\n",
	})
	s := events.NewStats()
	if err := hugetlbStats(dir, s); err != nil {
		t.Fatal(err)
	}
	want := map[string]events.Hugetlb{"2MB": {Usage: 2097152, Max: 4194304, Failcnt: 1}}
	if !reflect.DeepEqual(s.Hugetlb, want) {
		t.Fatalf("got %+v", s.Hugetlb)
	}
}

func TestBlkioStatsFallsBackToThrottle(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"blkio.bfq.io_service_bytes_recursive":      "Total 0\n",
		"blkio.bfq.io_serviced_recursive":           "Total 0\n",
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\nTotal 512\n",
		"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\nTotal 1\n",
	})
	s := events.NewStats()
	if err := blkioStats(dir, s); err != nil {
		t.Fatal(err)
	}
	if len(s.Blkio.IoServiceBytesRecursive) != 1 || s.Blkio.IoServiceBytesRecursive[0].Value != 512 ||
		len(s.Blkio.IoServicedRecursive) != 1 {
		t.Fatalf("got %+v", s.Blkio)
	}
}
