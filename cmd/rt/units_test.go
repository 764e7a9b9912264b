package main

import "testing"

func TestRAMInBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"1024": 1024, "64M": 64 << 20, "64m": 64 << 20, "64MB": 64 << 20, "64MiB": 64 << 20,
		"1.5g": 3 << 29, "10 k": 10240, "32kb": 32 << 10, "1T": 1 << 40, "1p": 1 << 50, "7b": 7, "0": 0,
	} {
		got, err := ramInBytes(in)
		if err != nil || got != want {
			t.Errorf("ramInBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "-5", "64X", "64MBB", "64mx", "64kib2", "abc", "1.2.3k"} {
		if got, err := ramInBytes(bad); err == nil {
			t.Errorf("ramInBytes(%q) = %d, want error", bad, got)
		}
	}
}
