// Command gen writes config_encode_gen.go in the current directory (go
// generate in libcontainer).
package main

import (
	"fmt"
	"os"

	"github.com/rt-runtime/rt/libcontainer/internal/genencode"
)

func main() {
	src, err := genencode.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile("config_encode_gen.go", src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
