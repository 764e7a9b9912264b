// Command keyprobe checks what a process can reach of its caller's session
// keyring.
//
//	keyprobe wrap DESC CMD ARGS...  join a new session keyring, add a user
//	    key DESC to it, then exec CMD with every "@KEYID@" in ARGS replaced
//	    by the key's id
//	keyprobe check DESC ID  print whether the session keyring holds DESC,
//	    and whether key ID can be read
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: keyprobe wrap|check ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "wrap":
		if _, err := unix.KeyctlJoinSessionKeyring("keyprobe"); err != nil {
			fmt.Fprintln(os.Stderr, "join session keyring:", err)
			os.Exit(2)
		}
		id, err := unix.AddKey("user", os.Args[2], []byte("secret-payload"), unix.KEY_SPEC_SESSION_KEYRING)
		if err != nil {
			fmt.Fprintln(os.Stderr, "add key:", err)
			os.Exit(2)
		}
		args := os.Args[3:]
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "@KEYID@", strconv.Itoa(id))
		}
		err = unix.Exec(args[0], args, os.Environ())
		fmt.Fprintln(os.Stderr, "exec:", err)
		os.Exit(2)
	case "check":
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_SESSION_KEYRING, "user", os.Args[2], 0); err == nil {
			fmt.Printf("search: FOUND %d\n", id)
		} else {
			fmt.Printf("search: %v\n", err)
		}
		id, _ := strconv.Atoi(os.Args[3])
		buf := make([]byte, 64)
		if n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0); err == nil {
			fmt.Printf("read: READ %q\n", buf[:min(n, len(buf))])
		} else {
			fmt.Printf("read: %v\n", err)
		}
	}
}
