package link

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	if v := VethName("web"); len(v) != 15 || !strings.HasPrefix(v, "rtv") || v == VethName("web2") {
		t.Fatalf("VethName = %q", v)
	}
	if a := Alias("web"); a != "rt-net:web" {
		t.Fatalf("Alias(web) = %q", a)
	}
	long := strings.Repeat("x", 1000)
	if a := Alias(long); len(a) > 255 || !strings.HasPrefix(a, "rt-net:#") {
		t.Fatalf("Alias(1000 x) = %q", a)
	}
}
