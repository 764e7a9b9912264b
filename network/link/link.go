// Package link makes the links, addresses and routes of rt's bridge network
// over rtnetlink (github.com/vishvananda/netlink): the bridge, one veth pair
// per container with its container end created directly in the container's
// network namespace, and the container's address and default route.
package link

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// rtnl is the rtnetlink handle of the hook's own network namespace: one
// socket for all the requests of a run (the package functions of
// vishvananda/netlink open and close a socket per request). A handle that
// cannot be made falls back to those per-request sockets.
var rtnl = sync.OnceValue(func() *netlink.Handle {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return &netlink.Handle{}
	}
	return h
})

// AliasPrefix starts the alias (IFLA_IFALIAS) of every host-side veth:
// "rt-net:<container id>", so gc finds veths whose lease is gone.
const AliasPrefix = "rt-net:"

// ContainerIfname is the container end of the veth pair.
const ContainerIfname = "eth0"

// Alias is the alias of id's host-side veth: "rt-net:<id>", or for an id
// too long for an alias (255 bytes) "rt-net:#<12 hex>" (its veth name's).
func Alias(id string) string {
	if len(AliasPrefix)+len(id) <= 255 {
		return AliasPrefix + id
	}
	return AliasPrefix + "#" + VethName(id)[3:]
}

// VethName is the host-side name of id's veth: "rtv" and 12 hex digits of
// the id's SHA-256 (interface names have at most 15 characters).
func VethName(id string) string {
	h := sha256.Sum256([]byte(id))
	return "rtv" + hex.EncodeToString(h[:])[:12]
}

func ipnet(p netip.Prefix) *net.IPNet {
	a := p.Addr().AsSlice()
	return &net.IPNet{IP: net.IP(a), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// addr is the netlink address p; an IPv6 address skips duplicate address
// detection (rt-net hands out the addresses of its subnet itself), which
// would keep it unusable ("tentative") for a second or more.
func addr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: ipnet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// EnsureBridge makes bridge (when missing) with address gw (gateway/bits)
// and, when gw6 is valid, the IPv6 address gw6, and brings it up.
func EnsureBridge(name string, gw, gw6 netip.Prefix) (int, error) {
	l, err := rtnl().LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return 0, fmt.Errorf("bridge %s: %w", name, err)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		// A fixed address: a bridge without one takes its lowest port's
		// MAC and changes it as veths come and go.
		mac := make(net.HardwareAddr, 6)
		if _, err := rand.Read(mac); err == nil {
			mac[0] = (mac[0] | 0x02) &^ 0x01
			attrs.HardwareAddr = mac
		}
		if err := rtnl().LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("create bridge %s: %w", name, err)
		}
		if l, err = rtnl().LinkByName(name); err != nil {
			return 0, fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	if l.Type() != "bridge" {
		return 0, fmt.Errorf("bridge %s: a link of that name exists and is a %s, not a bridge", name, l.Type())
	}
	addrs, err := rtnl().AddrList(l, unix.AF_INET)
	if err != nil {
		return 0, fmt.Errorf("bridge %s: list addresses: %w", name, err)
	}
	have := false
	for _, a := range addrs {
		p, _ := netip.AddrFromSlice(a.IP.To4())
		ones, _ := a.Mask.Size()
		if p != gw.Addr() || ones != gw.Bits() {
			return 0, fmt.Errorf("bridge %s: has address %s/%d, this container's network wants %s (one subnet per bridge)", name, p, ones, gw)
		}
		have = true
	}
	if !have {
		if err := rtnl().AddrAdd(l, addr(gw)); err != nil && !errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("bridge %s: add address %s: %w", name, gw, err)
		}
	}
	if gw6.IsValid() {
		if err := ensureAddr6(l, gw6); err != nil {
			return 0, fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := rtnl().LinkSetUp(l); err != nil {
			return 0, fmt.Errorf("bridge %s: set up: %w", name, err)
		}
	}
	return l.Attrs().Index, nil
}

// ensureAddr6 gives the bridge l the IPv6 address gw6 unless it has it; it
// fails when the bridge has another global IPv6 address (one IPv6 subnet
// per bridge). Link-local addresses are the kernel's and do not count.
func ensureAddr6(l netlink.Link, gw6 netip.Prefix) error {
	addrs, err := rtnl().AddrList(l, unix.AF_INET6)
	if err != nil {
		return fmt.Errorf("list IPv6 addresses: %w", err)
	}
	for _, a := range addrs {
		p, _ := netip.AddrFromSlice(a.IP)
		if p.IsLinkLocalUnicast() {
			continue
		}
		ones, _ := a.Mask.Size()
		if p != gw6.Addr() || ones != gw6.Bits() {
			return fmt.Errorf("has address %s/%d, this container's network wants %s (one IPv6 subnet per bridge)", p, ones, gw6)
		}
		return nil
	}
	if err := rtnl().AddrAdd(l, addr(gw6)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s: %w", gw6, err)
	}
	return nil
}

// Sysctls turns on IPv4 forwarding and route_localnet on bridge (so that a
// published port answers on 127.0.0.1 of the host) and, for a dual-stack
// bridge (ipv6), IPv6 forwarding.
func Sysctls(bridge string, ipv6 bool) error {
	files := []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet"}
	if ipv6 {
		files = append(files, "/proc/sys/net/ipv6/conf/all/forwarding")
	}
	for _, f := range files {
		cur, err := os.ReadFile(f)
		if err == nil && strings.TrimSpace(string(cur)) == "1" {
			continue
		}
		if err := os.WriteFile(f, []byte("1"), 0); err != nil {
			return fmt.Errorf("sysctl %s: %w", f, err)
		}
	}
	return nil
}

// Veth makes id's veth pair: the host end VethName(id) on the bridge and up,
// the container end eth0 created directly in the network namespace nsFd,
// with address ip (in prefix bits), the default route through gw, and lo
// up; and, when ip6 is valid, the IPv6 address ip6 and the IPv6 default
// route through gw6.
func Veth(id string, bridgeIndex int, nsFd int, ip netip.Prefix, gw netip.Addr, ip6 netip.Prefix, gw6 netip.Addr) error {
	name := VethName(id)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MasterIndex = bridgeIndex
	attrs.Alias = Alias(id)
	v := &netlink.Veth{LinkAttrs: attrs, PeerName: ContainerIfname, PeerNamespace: netlink.NsFd(nsFd)}
	if err := rtnl().LinkAdd(v); err != nil {
		return fmt.Errorf("create veth %s (peer %s in the container): %w", name, ContainerIfname, err)
	}
	host, err := rtnl().LinkByName(name)
	if err != nil {
		return fmt.Errorf("veth %s: %w", name, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(nsFd), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink in the container's network namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("container lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("container lo: set up: %w", err)
	}
	eth, err := h.LinkByName(ContainerIfname)
	if err != nil {
		return fmt.Errorf("container %s: %w", ContainerIfname, err)
	}
	if err := h.AddrAdd(eth, addr(ip)); err != nil {
		return fmt.Errorf("container %s: add address %s: %w", ContainerIfname, ip, err)
	}
	if ip6.IsValid() {
		if err := h.AddrAdd(eth, addr(ip6)); err != nil {
			return fmt.Errorf("container %s: add address %s: %w", ContainerIfname, ip6, err)
		}
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("container %s: set up: %w", ContainerIfname, err)
	}
	g := gw.As4()
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(g[:])}); err != nil {
		return fmt.Errorf("container %s: default route via %s: %w", ContainerIfname, gw, err)
	}
	if ip6.IsValid() {
		g6 := gw6.As16()
		if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(g6[:]), Family: unix.AF_INET6}); err != nil {
			return fmt.Errorf("container %s: IPv6 default route via %s: %w", ContainerIfname, gw6, err)
		}
	}
	if err := rtnl().LinkSetUp(host); err != nil {
		return fmt.Errorf("veth %s: set up: %w", name, err)
	}
	return nil
}

// AwaitGone waits, at most timeout, until no link is called name, and
// tells whether it is gone.
func AwaitGone(name string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		var nf netlink.LinkNotFoundError
		if _, err := rtnl().LinkByName(name); errors.As(err, &nf) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Microsecond)
	}
}

// Delete removes the link called name; a missing link is no error.
func Delete(name string) error {
	l, err := rtnl().LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := rtnl().LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// Owned returns the names of the host-side veths of rt-net (found by their
// alias).
func Owned() ([]string, error) {
	links, err := rtnl().LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []string
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Alias, AliasPrefix) && l.Type() == "veth" {
			out = append(out, l.Attrs().Name)
		}
	}
	return out, nil
}
