package libcontainer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestPasswdHome(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	data := "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\nnohome:x:5:5::::\nuser:x:1000:1000:U:/home/user:/bin/sh\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for uid, want := range map[uint32]string{0: "/root", 1000: "/home/user"} {
		if got, ok := passwdHome(p, uid); !ok || got != want {
			t.Errorf("passwdHome(%d) = %q, %v; want %q", uid, got, ok, want)
		}
	}
	for _, uid := range []uint32{5, 4242} {
		if got, ok := passwdHome(p, uid); ok {
			t.Errorf("passwdHome(%d) = %q, want not found", uid, got)
		}
	}
	if _, ok := passwdHome(filepath.Join(t.TempDir(), "none"), 0); ok {
		t.Error("a missing passwd file gave a home")
	}
}

func TestWithHomeKeepsExisting(t *testing.T) {
	env := []string{"PATH=/bin", "HOME=/custom"}
	if got := withHome(env, 0); !reflect.DeepEqual(got, env) {
		t.Errorf("withHome changed an env with HOME: %v", got)
	}
}
