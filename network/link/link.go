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

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

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
	a := p.Addr().As4()
	return &net.IPNet{IP: net.IP(a[:]), Mask: net.CIDRMask(p.Bits(), 32)}
}

// EnsureBridge makes bridge (when missing) with address gw (gateway/bits),
// and brings it up.
func EnsureBridge(name string, gw netip.Prefix) (int, error) {
	l, err := netlink.LinkByName(name)
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
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("create bridge %s: %w", name, err)
		}
		if l, err = netlink.LinkByName(name); err != nil {
			return 0, fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	if l.Type() != "bridge" {
		return 0, fmt.Errorf("bridge %s: a link of that name exists and is a %s, not a bridge", name, l.Type())
	}
	addrs, err := netlink.AddrList(l, unix.AF_INET)
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
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: ipnet(gw)}); err != nil && !errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("bridge %s: add address %s: %w", name, gw, err)
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(l); err != nil {
			return 0, fmt.Errorf("bridge %s: set up: %w", name, err)
		}
	}
	return l.Attrs().Index, nil
}

// Sysctls turns on IPv4 forwarding and route_localnet on bridge (so that a
// published port answers on 127.0.0.1 of the host).
func Sysctls(bridge string) error {
	for _, f := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet"} {
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
// with address addr (in prefix bits), the default route through gw, and lo up.
func Veth(id string, bridgeIndex int, nsFd int, addr netip.Prefix, gw netip.Addr) error {
	name := VethName(id)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MasterIndex = bridgeIndex
	attrs.Alias = Alias(id)
	v := &netlink.Veth{LinkAttrs: attrs, PeerName: ContainerIfname, PeerNamespace: netlink.NsFd(nsFd)}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("create veth %s (peer %s in the container): %w", name, ContainerIfname, err)
	}
	host, err := netlink.LinkByName(name)
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
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipnet(addr)}); err != nil {
		return fmt.Errorf("container %s: add address %s: %w", ContainerIfname, addr, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("container %s: set up: %w", ContainerIfname, err)
	}
	g := gw.As4()
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(g[:])}); err != nil {
		return fmt.Errorf("container %s: default route via %s: %w", ContainerIfname, gw, err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("veth %s: set up: %w", name, err)
	}
	return nil
}

// Delete removes the link called name; a missing link is no error.
func Delete(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// Owned returns the names of the host-side veths of rt-net (found by their
// alias).
func Owned() ([]string, error) {
	links, err := netlink.LinkList()
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
