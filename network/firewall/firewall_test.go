package firewall

import (
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
