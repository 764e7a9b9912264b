package cgutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// ParseProcCgroup parses the /proc/<pid>/cgroup format
// ("hierarchy-id:controller,list:/path" per line). Every controller of a
// line maps to its path; named hierarchies keep their "name=" prefix
// ("name=systemd"); the cgroup v2 line ("0::/path") maps to key "".
func ParseProcCgroup(r io.Reader) (map[string]string, error) {
	res := make(map[string]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("invalid cgroup line %q", line)
		}
		if parts[1] == "" {
			res[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			res[c] = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// OwnCgroups returns the cgroups of the calling process
// (/proc/self/cgroup), keyed as ParseProcCgroup does.
func OwnCgroups() (map[string]string, error) {
	return PidCgroups("self")
}

// PidCgroups returns the cgroups of process pid ("self" allowed).
func PidCgroups(pid string) (map[string]string, error) {
	path := "/proc/" + pid + "/cgroup"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	m, err := ParseProcCgroup(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return m, nil
}
