package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helpCommands lists the commands `rt --help` shows.
func helpCommands(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(rtBinary, "--help").Output()
	if err != nil {
		t.Fatalf("rt --help: %v", err)
	}
	var cmds []string
	in := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "COMMANDS:"):
			in = true
		case in && strings.TrimSpace(l) == "":
			in = false
		case in:
			name := strings.TrimSuffix(strings.Fields(l)[0], ",")
			if name != "help" {
				cmds = append(cmds, name)
			}
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("rt --help lists %d commands: %q\n%s", len(cmds), cmds, out)
	}
	return cmds
}

// helpFlags lists the long flags `rt <cmd> --help` shows.
func helpFlags(t *testing.T, cmd string) []string {
	t.Helper()
	out, err := exec.Command(rtBinary, cmd, "--help").Output()
	if err != nil {
		t.Fatalf("rt %s --help: %v", cmd, err)
	}
	var flags []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasPrefix(f[0], "--") && f[0] != "--help" {
			flags = append(flags, strings.TrimSuffix(f[0], ","))
		}
	}
	return flags
}

// TestMakeInstall: make install with PREFIX and DESTDIR puts the binaries,
// a man page for rt and for every command --help lists (each naming every
// flag the command's --help shows), and the bash completion under DESTDIR;
// make uninstall removes them.
func TestMakeInstall(t *testing.T) {
	requireSuite(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make not installed (scripts/install-deps.sh installs it):", err)
	}
	dest := t.TempDir()
	run := func(target string) {
		t.Helper()
		cmd := exec.Command("make", "-C", "..", target, "DESTDIR="+dest, "PREFIX=/usr", "BIN="+rtBinary)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", target, err, out)
		}
	}
	run("install")
	bin := filepath.Join(dest, "usr/sbin/rt")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("%s mode %v, want 0755", bin, st.Mode().Perm())
	}
	want, _ := os.ReadFile(rtBinary)
	if got, _ := os.ReadFile(bin); !bytes.Equal(got, want) {
		t.Errorf("%s is not the binary under test", bin)
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "rt version ") {
		t.Errorf("installed rt --version: %v: %q", err, out)
	}
	if st, err := os.Stat(filepath.Join(dest, "usr/sbin/rt-net")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("rt-net (the network hook, beside rt): %v", err)
	}
	man := filepath.Join(dest, "usr/share/man/man8")
	if page := readFile(t, filepath.Join(man, "rt.8")); !strings.HasPrefix(page, ".TH RT 8") {
		t.Errorf("rt.8 does not start with its title: %.40q", page)
	}
	compl := readFile(t, filepath.Join(dest, "usr/share/bash-completion/completions/rt"))
	for _, c := range helpCommands(t) {
		page := readFile(t, filepath.Join(man, "rt-"+c+".8"))
		if !strings.HasPrefix(page, ".TH RT\\-"+strings.ToUpper(c)+" 8") {
			t.Errorf("rt-%s.8 does not start with its title: %.40q", c, page)
		}
		// The completion's line for c: `\tc) flags="--a -b ..." ;;`.
		_, line, ok := strings.Cut(compl, "\t"+c+") flags=\"")
		line, _, _ = strings.Cut(line, "\"")
		if !ok {
			t.Errorf("the bash completion lacks command %s", c)
		}
		for _, f := range helpFlags(t, c) {
			if !strings.Contains(page, strings.ReplaceAll(f, "-", `\-`)) {
				t.Errorf("rt-%s.8 does not document %s (rt %s --help shows it)", c, f, c)
			}
			if !contains(strings.Fields(line), f) {
				t.Errorf("the bash completion lacks %s of rt %s", f, c)
			}
		}
	}
	run("uninstall")
	var left []string
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("make uninstall left %q", left)
	}
}
