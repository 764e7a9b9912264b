package libcontainer

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestChildCmdExeAmongItsFiles: the program's descriptor has a number that
// the child's own files take (a memfd opened at 3 or 4 by a process with
// few files open); the child must still execute the program, not the file
// moved onto that number.
func TestChildCmdExeAmongItsFiles(t *testing.T) {
	src, err := os.Open("/bin/true")
	if err != nil {
		t.Skip("SKIP: no /bin/true to execute")
	}
	defer src.Close()
	memfd, err := unix.MemfdCreate("true", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(memfd)
	if _, err := io.Copy(os.NewFile(uintptr(memfd), "true"), src); err != nil {
		t.Fatal(err)
	}
	// The program at the lowest free number (a process with few files
	// open has it at 3 or 4), then files to become the child's 3..22.
	low, err := unix.FcntlInt(uintptr(memfd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		t.Fatal(err)
	}
	var extra []*os.File
	for range 10 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		extra = append(extra, r, w)
	}
	if low >= 3+len(extra) {
		t.Fatalf("test set-up: the program's descriptor %d is not among the child's %d files", low, 3+len(extra))
	}
	exe := os.NewFile(uintptr(low), "exe")
	defer exe.Close()
	cmd := &childCmd{Exe: exe, Args: []string{"true"}, ExtraFiles: extra}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start with the program at fd %d among %d files: %v", low, 3+len(extra), err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(cmd.Process.pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("the child did not run /bin/true: status %v", ws)
	}
}
