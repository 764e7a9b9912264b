// Package netdev moves host network devices into a container's network
// namespace (linux.netDevices, runtime-spec 1.3), as runc 1.3+ does from the
// parent once the namespace exists: the device is set down, renamed and moved
// in one RTM_NEWLINK, its permanent global addresses are added again in the
// new namespace (the kernel drops addresses on a move), and it is set up.
package netdev

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ValidName reports whether name can be a network device name (as runc
// checks it: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace).
func ValidName(name string) bool {
	if name == "" || len(name) >= unix.IFNAMSIZ || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n")
}

// Move moves each device of devs (keyed by host name) into the network
// namespace nsFd, in name order.
func Move(nsFd int, devs map[string]specs.LinuxNetDevice) error {
	names := make([]string, 0, len(devs))
	for n := range devs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := move(nsFd, name, devs[name]); err != nil {
			return fmt.Errorf("linux.netDevices[%q]: %w", name, err)
		}
	}
	return nil
}

func move(nsFd int, name string, dev specs.LinuxNetDevice) error {
	link, err := netlink.LinkByName(name)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("link not found for interface %s on runtime namespace: %w", name, err)
	}
	if link == nil {
		return fmt.Errorf("link not found for interface %s on runtime namespace", name)
	}
	if err := netlink.LinkSetDown(link); err != nil {
		return fmt.Errorf("set link %s down: %w", name, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses of %s: %w", name, err)
	}
	newName := name
	if dev.Name != "" {
		newName = dev.Name
	}
	// Rename and move in one request, so the new name never collides
	// with a device of the host.
	if err := linkMove(link.Attrs().Index, newName, nsFd); err != nil {
		return fmt.Errorf("move network device %s to the container's network namespace as %s: %w", name, newName, err)
	}
	nh, err := netlink.NewHandleAt(netns.NsHandle(nsFd), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink in the container's network namespace: %w", err)
	}
	defer nh.Close()
	nsLink, err := nh.LinkByName(newName)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("link not found for interface %s in the container's network namespace: %w", newName, err)
	}
	if nsLink == nil {
		return fmt.Errorf("link not found for interface %s in the container's network namespace", newName)
	}
	for _, a := range addrs {
		// Only what the user configured: permanent addresses of global
		// scope (dynamic and link/host-scope addresses belong to the host's
		// context).
		if a.Flags&unix.IFA_F_PERMANENT == 0 || a.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		if err := nh.AddrAdd(nsLink, &netlink.Addr{IPNet: a.IPNet}); err != nil {
			return fmt.Errorf("add address %s to %s in the container's network namespace: %w", a.IPNet, newName, err)
		}
	}
	if err := nh.LinkSetUp(nsLink); err != nil {
		return fmt.Errorf("set %s up in the container's network namespace: %w", newName, err)
	}
	return nil
}

// linkMove sends RTM_NEWLINK{index, IFLA_IFNAME, IFLA_NET_NS_FD}.
func linkMove(index int, name string, nsFd int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsFd))))
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	if errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil
	}
	return err
}
