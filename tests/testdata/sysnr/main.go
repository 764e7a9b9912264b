// Command sysnr calls each syscall number given on its command line with
// zero arguments and prints "nr errno-name" for each: a probe for seccomp
// filters, built static by the tests and run inside containers.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func main() {
	for _, a := range os.Args[1:] {
		nr, err := strconv.Atoi(a)
		if err != nil {
			fmt.Println(a, "bad-number")
			continue
		}
		_, _, e := syscall.RawSyscall(uintptr(nr), 0, 0, 0)
		switch e {
		case 0:
			fmt.Println(nr, "OK")
		case syscall.ENOSYS:
			fmt.Println(nr, "ENOSYS")
		case syscall.EPERM:
			fmt.Println(nr, "EPERM")
		default:
			fmt.Println(nr, "errno", int(e))
		}
	}
}
