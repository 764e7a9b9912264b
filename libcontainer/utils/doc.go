// Package utils holds small helpers shared by the runtime: passing file
// descriptors over unix sockets (--console-socket), JSON output, path
// cleaning, signal names, atomic file writes and fd hygiene.
package utils
