package main

import (
	"bytes"
	"testing"
)

func TestFilterPsOutput(t *testing.T) {
	out := "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
		"root           1       0  0 10:00 ?        00:00:01 /sbin/init\n" +
		"root         42       1  0 10:00 ?        00:00:00 sleep 1000\n" +
		"root        420      42  0 10:00 ?        00:00:00 sh -c x y\n"
	var b bytes.Buffer
	if err := filterPsOutput(&b, out, []int{42, 7}); err != nil {
		t.Fatal(err)
	}
	want := "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
		"root         42       1  0 10:00 ?        00:00:00 sleep 1000\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	if err := filterPsOutput(&b, "USER CMD\nroot x\n", nil); err == nil || err.Error() != "couldn't find PID field in ps output" {
		t.Fatalf("want missing PID error, got %v", err)
	}
	b.Reset()
	if err := filterPsOutput(&b, "  PID CMD\n bad x\n", []int{1}); err == nil {
		t.Fatal("want unparsable pid error")
	}
}
