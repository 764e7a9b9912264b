package libcontainer

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// procStartTime finds fields in place; it must agree with a plain split.
func TestProcStartTime(t *testing.T) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := bytes.Fields(data[bytes.LastIndexByte(data, ')')+2:])
	want, _ := strconv.ParseUint(string(fields[19]), 10, 64)
	st, state, err := procStartTime(os.Getpid())
	// The state is the main thread's: R, or S while another thread runs
	// this test.
	if err != nil || st != want || (state != 'R' && state != 'S') {
		t.Fatalf("procStartTime(self) = %d, %c, %v; want %d, R or S", st, state, err, want)
	}
	if !processAlive(os.Getpid(), want) || processAlive(os.Getpid(), want+1) {
		t.Fatal("processAlive does not match the start time")
	}
	if _, _, err := procStartTime(1 << 30); err == nil {
		t.Fatal("procStartTime of a pid that cannot exist: no error")
	}
}
