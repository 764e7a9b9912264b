package firewall

import (
	"fmt"
	"strings"
	"testing"
)

func TestContainerTable(t *testing.T) {
	if got := ContainerTable("web"); got != "rt-ctr-web" {
		t.Fatalf("ContainerTable(web) = %q", got)
	}
	long := strings.Repeat("x", 1000)
	got := ContainerTable(long)
	if len(got) > 255 || !strings.HasPrefix(got, "rt-ctr-#") || got == ContainerTable(long+"y") {
		t.Fatalf("ContainerTable(1000 x) = %q", got)
	}
}

func TestNetipMask(t *testing.T) {
	for _, c := range []struct {
		bits, n int
		want    string
	}{{24, 4, "ffffff00"}, {29, 4, "fffffff8"}, {64, 16, "ffffffffffffffff0000000000000000"}, {68, 16, "fffffffffffffffff000000000000000"}} {
		if got := fmt.Sprintf("%x", netipMask(c.bits, c.n)); got != c.want {
			t.Errorf("netipMask(%d, %d) = %s, want %s", c.bits, c.n, got, c.want)
		}
	}
}
