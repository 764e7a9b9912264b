package utils

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// listen starts a console-socket receiver like runc's recvtty and returns the
// channel on which it reports the received file.
func listen(t *testing.T, path string) <-chan *os.File {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan *os.File, 1)
	go func() {
		defer close(got)
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		f, err := c.File()
		if err != nil {
			return
		}
		defer f.Close()
		master, err := RecvFd(f)
		if err != nil {
			t.Errorf("RecvFd: %v", err)
			return
		}
		got <- master
	}()
	return got
}

func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx (devpts): %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

func TestConsoleSocketRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.sock")
	got := listen(t, path)
	sock, err := ConnectConsoleSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	master, slave := openPty(t)
	if err := SendConsole(sock, master); err != nil {
		t.Fatal(err)
	}
	recv := <-got
	if recv == nil {
		t.Fatal("receiver got nothing")
	}
	defer recv.Close()
	if recv.Name() != "/dev/ptmx" {
		t.Errorf("name = %q, want /dev/ptmx", recv.Name())
	}
	// What the slave writes comes out of the received master.
	if _, err := slave.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := recv.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "ping") {
		t.Errorf("read %q, %v", buf[:n], err)
	}
}

func TestConnectConsoleSocketLongPath(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(long, "console.sock")
	if len(path) <= maxSunPath {
		t.Fatalf("test path too short: %d", len(path))
	}
	// net.Listen cannot bind such a path either; bind it from inside the dir.
	wd, _ := os.Getwd()
	if err := os.Chdir(long); err != nil {
		t.Fatal(err)
	}
	got := listen(t, "console.sock")
	os.Chdir(wd)

	sock, err := ConnectConsoleSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if err := SendFds(sock, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if f := <-got; f == nil {
		t.Fatal("nothing received")
	} else {
		f.Close()
	}
}

func TestConnectConsoleSocketMissing(t *testing.T) {
	_, err := ConnectConsoleSocket(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("err = %v", err)
	}
}
