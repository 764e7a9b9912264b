package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipMessage(t *testing.T) {
	if got := clipMessage("short"); got != "short" {
		t.Errorf("short message changed: %q", got)
	}
	long := "path \"/" + strings.Repeat("é", 10<<20) + "\": no such file"
	got := clipMessage(long)
	if len(got) > maxMessage+64 || !strings.HasPrefix(got, "path \"/é") || !strings.HasSuffix(got, fmt.Sprintf("(message of %d bytes clipped)", len(long))) {
		t.Errorf("clipped to %d bytes: %.80q ... %.80q", len(got), got, got[len(got)-60:])
	}
	if !utf8.ValidString(got) {
		t.Error("clipped in the middle of a character")
	}
}
