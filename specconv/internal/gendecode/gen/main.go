// Command gen writes decode_gen.go in the current directory (go generate
// in specconv).
package main

import (
	"fmt"
	"os"

	"github.com/rt-runtime/rt/specconv/internal/gendecode"
)

func main() {
	src, err := gendecode.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile("decode_gen.go", src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
