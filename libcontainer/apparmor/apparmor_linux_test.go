package apparmor

import (
	"os"
	"strings"
	"testing"
)

// IsEnabled reads the host's AppArmor module parameter.
func TestIsEnabled(t *testing.T) {
	b, err := os.ReadFile(enabledPath)
	want := err == nil && strings.HasPrefix(string(b), "Y")
	if got := IsEnabled(); got != want {
		t.Fatalf("IsEnabled() = %v, %s says %q", got, enabledPath, b)
	}
}
