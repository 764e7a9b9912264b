package netdev

import "testing"

func TestValidName(t *testing.T) {
	for _, ok := range []string{"eth0", "a", "ctr-0.1", "123456789012345"} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a:b", "a b", "1234567890123456"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}
