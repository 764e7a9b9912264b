package main

// The man pages (man/*.8) and the bash completion
// (contrib/completions/bash/rt) are generated from newApp, the definition
// that --help prints, and committed. These tests regenerate them and fail
// when the committed files differ, so they cannot drift from the CLI.
// `make docs` (RT_UPDATE_DOCS=1) rewrites them.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/urfave/cli"
)

const (
	manDir     = "../../man"
	bashCompl  = "../../contrib/completions/bash/rt"
	updateDocs = "RT_UPDATE_DOCS"
)

// docsApp is newApp with the values that depend on who runs it made
// stable: the default --root is documented for both cases.
func docsApp() *cli.App {
	app := newApp()
	for i, f := range app.Flags {
		if sf, ok := f.(cli.StringFlag); ok && sf.Name == "root" {
			sf.Value = "/run/rt, or $XDG_RUNTIME_DIR/rt for a user other than root"
			app.Flags[i] = sf
		}
	}
	return app
}

// visibleCommands are the commands --help lists, sorted by name.
func visibleCommands(app *cli.App) []cli.Command {
	var out []cli.Command
	for _, c := range app.Commands {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func visibleFlags(flags []cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if !flagHidden(f) {
			out = append(out, f)
		}
	}
	return out
}

func flagHidden(f cli.Flag) bool {
	switch f := f.(type) {
	case cli.BoolFlag:
		return f.Hidden
	case cli.BoolTFlag:
		return f.Hidden
	case cli.StringFlag:
		return f.Hidden
	case cli.StringSliceFlag:
		return f.Hidden
	case cli.IntFlag:
		return f.Hidden
	case cli.Int64Flag:
		return f.Hidden
	case cli.UintFlag:
		return f.Hidden
	case cli.Uint64Flag:
		return f.Hidden
	case cli.IntSliceFlag:
		return f.Hidden
	case cli.Int64SliceFlag:
		return f.Hidden
	case cli.DurationFlag:
		return f.Hidden
	case cli.Float64Flag:
		return f.Hidden
	case cli.GenericFlag:
		return f.Hidden
	}
	return false
}

// flagNames are the spellings of f as typed: "--bundle", "-b".
func flagNames(f cli.Flag) []string {
	var out []string
	for _, n := range strings.Split(f.GetName(), ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if len(n) == 1 {
			out = append(out, "-"+n)
		} else {
			out = append(out, "--"+n)
		}
	}
	return out
}

// roff escapes text for a man page: backslashes and hyphens, and lines
// that would start a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// preformatted renders text as --help prints it (line breaks kept).
func preformatted(b *strings.Builder, text string) {
	text = strings.Trim(text, "\n")
	if text == "" {
		return
	}
	fmt.Fprintf(b, ".nf\n%s\n.fi\n", roff(text))
}

// options renders flags the way --help does: the spellings with their
// argument, then the usage (FlagStringer, urfave/cli's own text).
func options(b *strings.Builder, flags []cli.Flag) {
	for _, f := range visibleFlags(flags) {
		term, usage, _ := strings.Cut(cli.FlagStringer(f), "\t")
		fmt.Fprintf(b, ".TP\n\\fB%s\\fP\n%s\n", roff(term), roff(usage))
	}
}

// manPages returns the man pages of app: rt.8 and rt-<command>.8.
func manPages(app *cli.App) map[string]string {
	pages := map[string]string{}
	cmds := visibleCommands(app)
	var b strings.Builder
	fmt.Fprintf(&b, ".TH RT 8 \"\" \"%s\" \"System Manager's Manual\"\n", app.Name)
	summary, rest, _ := strings.Cut(app.Usage, "\n")
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", app.Name, roff(summary))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP [\\fIglobal options\\fP] \\fIcommand\\fP [\\fIcommand options\\fP] [\\fIarguments\\fP...]\n", app.Name)
	b.WriteString(".SH DESCRIPTION\n")
	preformatted(&b, rest)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", c.Name, roff(c.Usage))
	}
	b.WriteString(".SH GLOBAL OPTIONS\n")
	options(&b, app.Flags)
	b.WriteString(".TP\n\\fB\\-\\-help, \\-h\\fP\nshow help\n.TP\n\\fB\\-\\-version, \\-v\\fP\nprint the version\n")
	b.WriteString(".SH SEE ALSO\n")
	var refs []string
	for _, c := range cmds {
		refs = append(refs, fmt.Sprintf("\\fB%s\\-%s\\fP(8)", app.Name, c.Name))
	}
	b.WriteString(strings.Join(refs, ",\n") + "\n")
	pages[app.Name+".8"] = b.String()

	for _, c := range cmds {
		var b strings.Builder
		up := strings.ToUpper(app.Name + "-" + c.Name)
		fmt.Fprintf(&b, ".TH %s 8 \"\" \"%s\" \"System Manager's Manual\"\n", roff(up), app.Name)
		fmt.Fprintf(&b, ".SH NAME\n%s\\-%s \\- %s\n", app.Name, c.Name, roff(c.Usage))
		args, more, _ := strings.Cut(c.ArgsUsage, "\n")
		fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s %s\\fP", app.Name, c.Name)
		if len(visibleFlags(c.Flags)) > 0 {
			b.WriteString(" [\\fIcommand options\\fP]")
		}
		if args = strings.TrimSpace(args); args != "" {
			fmt.Fprintf(&b, " %s", roff(args))
		}
		b.WriteString("\n")
		if strings.TrimSpace(c.Description+more) != "" {
			b.WriteString(".SH DESCRIPTION\n")
			preformatted(&b, c.Description)
			if c.Description != "" && strings.TrimSpace(more) != "" {
				b.WriteString(".PP\n")
			}
			preformatted(&b, more)
		}
		if len(visibleFlags(c.Flags)) > 0 {
			b.WriteString(".SH OPTIONS\n")
			options(&b, c.Flags)
		}
		fmt.Fprintf(&b, ".SH SEE ALSO\n\\fB%s\\fP(8)\n", app.Name)
		pages[app.Name+"-"+c.Name+".8"] = b.String()
	}
	return pages
}

// idCommands are the commands whose first argument is an existing
// container's id (create, run and restore name a new one).
func idCommands(app *cli.App) []string {
	var out []string
	for _, c := range visibleCommands(app) {
		switch c.Name {
		case "create", "run", "restore":
			continue
		}
		if strings.HasPrefix(c.ArgsUsage, "<container-id>") {
			out = append(out, c.Name)
		}
	}
	return out
}

// bashCompletion returns a bash completion script for app: the commands,
// the global flags, and each command's flags.
func bashCompletion(app *cli.App) string {
	var b strings.Builder
	names := func(flags []cli.Flag) string {
		var out []string
		for _, f := range visibleFlags(flags) {
			out = append(out, flagNames(f)...)
		}
		out = append(out, "--help", "-h")
		return strings.Join(out, " ")
	}
	var cmds []string
	for _, c := range visibleCommands(app) {
		cmds = append(cmds, c.Name)
	}
	fmt.Fprintf(&b, `# bash completion for %[1]s. Generated from the command definitions by
# cmd/rt/docs_test.go (make docs): do not edit.

_%[1]s() {
	local cur="${COMP_WORDS[COMP_CWORD]}"
	local commands="%[2]s"
	local global_flags="%[3]s --version -v"
	local id_commands="%[4]s"
	local cmd="" i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		-*) ;;
		*)
			if [[ " $commands " == *" ${COMP_WORDS[i]} "* ]]; then
				cmd="${COMP_WORDS[i]}"
				break
			fi
			;;
		esac
	done
	local flags
	case "$cmd" in
	"")
		if [[ "$cur" == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global_flags" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
		;;
`, app.Name, strings.Join(cmds, " "), names(app.Flags), strings.Join(idCommands(app), " "))
	for _, c := range visibleCommands(app) {
		fmt.Fprintf(&b, "\t%s) flags=\"%s\" ;;\n", c.Name, names(c.Flags))
	}
	fmt.Fprintf(&b, `	esac
	if [[ "$cur" == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
	elif [[ " $id_commands " == *" $cmd "* ]]; then
		# The container ids of the state root the command line names.
		local root=() j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case "${COMP_WORDS[j]}" in
			--root) root=(--root "${COMP_WORDS[j + 1]}") ;;
			--root=*) root=("${COMP_WORDS[j]}") ;;
			esac
		done
		mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" "${root[@]}" list -q 2>/dev/null)" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -F _%[1]s %[1]s
`, app.Name)
	return b.String()
}

// checkGenerated compares want with the file at path, or writes it under
// RT_UPDATE_DOCS=1.
func checkGenerated(t *testing.T, path, want string) {
	t.Helper()
	if os.Getenv(updateDocs) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make docs)", err)
	}
	if string(got) != want {
		t.Errorf("%s differs from what the command definitions give: run make docs and commit it", path)
	}
}

// TestManPages: man/ holds exactly one page per visible command plus
// rt.8, each equal to what newApp gives.
func TestManPages(t *testing.T) {
	pages := manPages(docsApp())
	for name, want := range pages {
		checkGenerated(t, filepath.Join(manDir, name), want)
	}
	ents, err := os.ReadDir(manDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, ok := pages[e.Name()]; !ok {
			t.Errorf("%s/%s is not a page of any command (remove it)", manDir, e.Name())
		}
	}
	// Every visible command and flag is in the pages.
	app := docsApp()
	for _, c := range visibleCommands(app) {
		page := pages["rt-"+c.Name+".8"]
		for _, f := range visibleFlags(c.Flags) {
			for _, n := range flagNames(f) {
				if !strings.Contains(page, roff(n)) {
					t.Errorf("rt-%s.8 lacks %s", c.Name, n)
				}
			}
		}
	}
}

// TestBashCompletion: the committed completion is what newApp gives, and
// bash completes command names and a command's flags with it.
func TestBashCompletion(t *testing.T) {
	app := docsApp()
	checkGenerated(t, bashCompl, bashCompletion(app))
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not found:", err)
	}
	complete := func(words ...string) []string {
		t.Helper()
		script := fmt.Sprintf(`source %q; COMP_WORDS=(%s); COMP_CWORD=%d; _rt; printf '%%s\n' "${COMPREPLY[@]}"`,
			bashCompl, quoteWords(words), len(words)-1)
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("bash completion of %q: %v: %s", words, err, out)
		}
		return strings.Fields(string(out))
	}
	if got := complete("rt", "cr"); strings.Join(got, " ") != "create" {
		t.Errorf("rt cr<TAB>: %q, want create", got)
	}
	if got := complete("rt", "--debug", "de"); strings.Join(got, " ") != "delete" {
		t.Errorf("rt --debug de<TAB>: %q, want delete", got)
	}
	for _, c := range visibleCommands(app) {
		got := complete("rt", c.Name, "--")
		for _, f := range visibleFlags(c.Flags) {
			for _, n := range flagNames(f) {
				if strings.HasPrefix(n, "--") && !contains(got, n) {
					t.Errorf("rt %s --<TAB> lacks %s: %q", c.Name, n, got)
				}
			}
		}
	}
	if got := complete("rt", "--r"); !contains(got, "--root") || !contains(got, "--rootless") {
		t.Errorf("rt --r<TAB>: %q, want --root and --rootless", got)
	}
	// Container ids come from `<rt> [--root R] list -q`: a stand-in rt
	// lists ids that name the root it was given.
	fake := filepath.Join(t.TempDir(), "rt")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"+
		`[ "$1" = --root ] && { r=$2; shift 2; }; [ "$*" = "list -q" ] && printf 'ctr-%s\nctr-x\nother\n' "${r:-default}"`+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := complete(fake, "delete", "ctr-"); strings.Join(got, " ") != "ctr-default ctr-x" {
		t.Errorf("rt delete ctr-<TAB>: %q, want the ids rt list -q gives", got)
	}
	if got := complete(fake, "--root", "/r1", "kill", "ctr-"); strings.Join(got, " ") != "ctr-/r1 ctr-x" {
		t.Errorf("rt --root /r1 kill ctr-<TAB>: %q, want the ids of that root", got)
	}
	if ids := idCommands(app); !contains(ids, "delete") || !contains(ids, "exec") || contains(ids, "list") || contains(ids, "spec") || contains(ids, "create") {
		t.Errorf("commands completing container ids: %q", ids)
	}
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
