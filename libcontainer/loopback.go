package libcontainer

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// inNetNS runs fn on an OS thread of its own that has joined pid's network
// namespace; the thread is discarded afterwards (never unlocked).
func inNetNS(pid int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("join network namespace of %d: %w", pid, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// loopbackFlags reads (set == false) or sets IFF_UP on "lo" of the
// current network namespace.
func loopbackFlags(set bool) (bool, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return false, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return false, fmt.Errorf("lo flags: %w", err)
	}
	up := ifr.Uint16()&unix.IFF_UP != 0
	if !set || up {
		return up, nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return false, fmt.Errorf("bring lo up: %w", err)
	}
	return true, nil
}

// loopbackUp reports whether lo is up in pid's network namespace.
func loopbackUp(pid int) (bool, error) {
	var up bool
	err := inNetNS(pid, func() error {
		var err error
		up, err = loopbackFlags(false)
		return err
	})
	return up, err
}

// setLoopbackUp brings lo up in pid's network namespace.
func setLoopbackUp(pid int) error {
	return inNetNS(pid, func() error {
		_, err := loopbackFlags(true)
		return err
	})
}
