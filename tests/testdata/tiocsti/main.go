// Command tiocsti tries to push input into the terminal of each of its
// stdio fds (and of what they name under /proc/self/fd) with TIOCSTI, and
// prints one line per attempt; "INJECTED" when one worked.
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func try(what string, fd int) {
	for _, c := range []byte("Z\n") {
		b := c
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSTI, int(b)); err != nil {
			fmt.Fprintf(os.Stdout, "%s: %v\n", what, err)
			return
		}
	}
	fmt.Fprintf(os.Stdout, "%s: INJECTED\n", what)
}

func main() {
	for fd := 0; fd <= 2; fd++ {
		try(fmt.Sprintf("fd %d", fd), fd)
		f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintf(os.Stdout, "reopen fd %d: %v\n", fd, err)
			continue
		}
		try(fmt.Sprintf("reopened fd %d", fd), int(f.Fd()))
		f.Close()
	}
	if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err != nil {
		fmt.Fprintf(os.Stdout, "/dev/tty: %v\n", err)
	} else {
		try("/dev/tty", int(f.Fd()))
	}
	fmt.Fprintln(os.Stdout, "done")
}
