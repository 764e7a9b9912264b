package libcontainer

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// passwdLimit bounds how much of the container's /etc/passwd is read.
const passwdLimit = 4 << 20

// withHome returns env with HOME set, as runc does, when env has none: to
// the home directory of uid in the container's /etc/passwd, or "/" when
// uid has no entry there (or there is no readable /etc/passwd). Called in
// the container's mount namespace and root.
func withHome(env []string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if h, ok := passwdHome("/etc/passwd", uid); ok {
		home = h
	}
	return append(env[:len(env):len(env)], "HOME="+home)
}

// passwdHome finds uid's home directory in the passwd file at path.
func passwdHome(path string, uid uint32) (string, bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	sc := bufio.NewScanner(io.LimitReader(f, passwdLimit))
	want := strconv.FormatUint(uint64(uid), 10)
	for sc.Scan() {
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 6 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if strings.TrimSpace(fields[2]) == want && fields[5] != "" {
			return fields[5], true
		}
	}
	return "", false
}
