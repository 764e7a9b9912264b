// Package netconf is the configuration of rt's bridge network as it travels
// in a bundle's annotations: parsing, validation and formatting. It makes no
// kernel calls; `rt spec --network` writes it and the rt-net hook reads it.
package netconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Annotation keys (config.json "annotations", seen by hooks in the state).
const (
	AnnNetwork  = "rt.network"          // "bridge": the only mode
	AnnBridge   = "rt.network.bridge"   // bridge name (default rt0)
	AnnSubnet   = "rt.network.subnet"   // IPv4 CIDR (default 10.77.0.0/16)
	AnnPublish  = "rt.network.publish"  // comma-separated publish specs
	AnnIP       = "rt.network.ip"       // static IPv4 address in the subnet
	AnnInternal = "rt.network.internal" // "true": no traffic leaves the bridge
	AnnEgress   = "rt.network.egress"   // comma-separated CIDRs/addresses the container may reach
	AnnSubnet6  = "rt.network.subnet6"  // IPv6 CIDR of the bridge: dual stack (default: none, IPv4 only)
	AnnIP6      = "rt.network.ip6"      // static IPv6 address in subnet6
)

// Defaults.
const (
	DefaultBridge = "rt0"
	DefaultSubnet = "10.77.0.0/16"
)

// ErrInvalid wraps every configuration error.
var ErrInvalid = errors.New("invalid network configuration")

// Port is one published port or range: host ports HostPort..HostPort+Count-1
// go to container ports Port..Port+Count-1.
type Port struct {
	HostIP   netip.Addr // invalid: every local address (of each family the container has)
	HostPort uint16
	Port     uint16
	Count    uint16
	Proto    string // "tcp" or "udp"
}

// Config is a container's bridge network.
type Config struct {
	Bridge   string
	Subnet   netip.Prefix
	IP       netip.Addr   // invalid: allocate
	Subnet6  netip.Prefix // invalid: no IPv6
	IP6      netip.Addr   // invalid: allocate (when Subnet6 is set)
	Internal bool
	Egress   []netip.Prefix // empty: no restriction
	Ports    []Port
}

// DualStack tells whether the container gets IPv6 too.
func (c *Config) DualStack() bool { return c.Subnet6.IsValid() }

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: annotation %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// Parse reads and validates the network configuration of annotations.
func Parse(ann map[string]string) (*Config, error) {
	if mode, ok := ann[AnnNetwork]; !ok {
		return nil, invalid(AnnNetwork, "not set: the container asks for no rt network")
	} else if mode != "bridge" {
		return nil, invalid(AnnNetwork, "unknown network mode %q (only \"bridge\")", mode)
	}
	c := &Config{Bridge: DefaultBridge}
	if b, ok := ann[AnnBridge]; ok {
		if err := ValidBridgeName(b); err != nil {
			return nil, invalid(AnnBridge, "%v", err)
		}
		c.Bridge = b
	}
	subnet := DefaultSubnet
	if s, ok := ann[AnnSubnet]; ok {
		subnet = s
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() {
		return nil, invalid(AnnSubnet, "%q is not an IPv4 CIDR", subnet)
	}
	if p.Bits() > 29 || p.Bits() < 8 {
		return nil, invalid(AnnSubnet, "%q: prefix length must be 8 to 29", subnet)
	}
	if p.Masked() != p {
		return nil, invalid(AnnSubnet, "%q has host bits set (did you mean %s?)", subnet, p.Masked())
	}
	c.Subnet = p
	if s, ok := ann[AnnIP]; ok {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, invalid(AnnIP, "%q is not an IPv4 address", s)
		}
		if !p.Contains(a) || a == p.Addr() || a == Gateway(p) || a == Broadcast(p) {
			return nil, invalid(AnnIP, "%s is not a host address of subnet %s other than the gateway %s", a, p, Gateway(p))
		}
		c.IP = a
	}
	if s, ok := ann[AnnSubnet6]; ok {
		p6, err := netip.ParsePrefix(s)
		if err != nil || !p6.Addr().Is6() || p6.Addr().Is4In6() {
			return nil, invalid(AnnSubnet6, "%q is not an IPv6 CIDR", s)
		}
		if p6.Bits() < 48 || p6.Bits() > 120 {
			return nil, invalid(AnnSubnet6, "%q: prefix length must be 48 to 120", s)
		}
		if p6.Masked() != p6 {
			return nil, invalid(AnnSubnet6, "%q has host bits set (did you mean %s?)", s, p6.Masked())
		}
		if p6.Addr().IsLinkLocalUnicast() || p6.Addr().IsMulticast() || p6.Addr().IsLoopback() {
			return nil, invalid(AnnSubnet6, "%q is not a unicast global or unique-local prefix", s)
		}
		c.Subnet6 = p6
	}
	if s, ok := ann[AnnIP6]; ok {
		if !c.Subnet6.IsValid() {
			return nil, invalid(AnnIP6, "needs %s", AnnSubnet6)
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return nil, invalid(AnnIP6, "%q is not an IPv6 address", s)
		}
		if !c.Subnet6.Contains(a) || a == c.Subnet6.Addr() || a == Gateway(c.Subnet6) {
			return nil, invalid(AnnIP6, "%s is not a host address of subnet %s other than the gateway %s", a, c.Subnet6, Gateway(c.Subnet6))
		}
		c.IP6 = a
	}
	if s, ok := ann[AnnInternal]; ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, invalid(AnnInternal, "%q is not a boolean", s)
		}
		c.Internal = b
	}
	if s := ann[AnnEgress]; s != "" {
		for _, e := range strings.Split(s, ",") {
			e = strings.TrimSpace(e)
			var pfx netip.Prefix
			if strings.Contains(e, "/") {
				pfx, err = netip.ParsePrefix(e)
			} else {
				var a netip.Addr
				a, err = netip.ParseAddr(e)
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			if err != nil || pfx.Addr().Is4In6() || pfx.Addr().Zone() != "" {
				return nil, invalid(AnnEgress, "%q is not an IP address or CIDR", e)
			}
			if pfx.Addr().Is6() && !c.Subnet6.IsValid() {
				return nil, invalid(AnnEgress, "%q is IPv6 and the container has no IPv6 (%s)", e, AnnSubnet6)
			}
			c.Egress = append(c.Egress, pfx.Masked())
		}
	}
	if s := ann[AnnPublish]; s != "" {
		for _, e := range strings.Split(s, ",") {
			pt, err := ParsePublish(strings.TrimSpace(e))
			if err != nil {
				return nil, invalid(AnnPublish, "%v", err)
			}
			if pt.HostIP.Is6() && !c.Subnet6.IsValid() {
				return nil, invalid(AnnPublish, "%s: an IPv6 host address needs IPv6 on the bridge (%s)", pt, AnnSubnet6)
			}
			c.Ports = append(c.Ports, pt)
		}
	}
	if c.Internal && len(c.Ports) > 0 {
		return nil, invalid(AnnInternal, "an internal container cannot publish ports (%s)", AnnPublish)
	}
	if err := checkOverlap(c.Ports); err != nil {
		return nil, invalid(AnnPublish, "%v", err)
	}
	return c, nil
}

// ValidBridgeName checks a Linux interface name for the bridge.
func ValidBridgeName(b string) error {
	if b == "" || len(b) > 15 || b == "." || b == ".." {
		return fmt.Errorf("%q is not a valid interface name (1 to 15 characters)", b)
	}
	for _, r := range b {
		if r <= ' ' || r == '/' || r == ':' || r > '~' {
			return fmt.Errorf("%q is not a valid interface name", b)
		}
	}
	return nil
}

// MaxRange bounds the ports of one publish entry (one DNAT rule per port).
const MaxRange = 1024

// ParsePublish parses [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp], an
// IPv6 HOSTIP in brackets ([2001:db8::1]:8080:80).
func ParsePublish(s string) (Port, error) {
	var p Port
	spec := s
	p.Proto = "tcp"
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		p.Proto = spec[i+1:]
		spec = spec[:i]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return p, fmt.Errorf("publish %q: protocol %q is not tcp or udp", s, p.Proto)
		}
	}
	var hostIP, hostPorts, ports string
	bracketed := strings.HasPrefix(spec, "[")
	if bracketed {
		end := strings.Index(spec, "]:")
		if end < 0 {
			return p, fmt.Errorf("publish %q: want [IPV6]:HOSTPORT[-END]:PORT[-END][/tcp|udp]", s)
		}
		hostIP, spec = spec[1:end], spec[end+2:]
		if hostIP == "" {
			return p, fmt.Errorf("publish %q: empty host address", s)
		}
	}
	parts := strings.Split(spec, ":")
	if bracketed {
		parts = append([]string{hostIP}, parts...)
	}
	switch len(parts) {
	case 2:
		hostPorts, ports = parts[0], parts[1]
	case 3:
		hostIP, hostPorts, ports = parts[0], parts[1], parts[2]
	default:
		return p, fmt.Errorf("publish %q: want [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp]", s)
	}
	if hostIP != "" {
		a, err := netip.ParseAddr(hostIP)
		if err != nil || a.Is4In6() || a.Zone() != "" || (a.Is6() != bracketed) {
			return p, fmt.Errorf("publish %q: host address %q is not an IPv4 address or a bracketed IPv6 address", s, hostIP)
		}
		if a.IsLoopback() && a.Is6() {
			return p, fmt.Errorf("publish %q: ::1 cannot be published (IPv6 has no route_localnet: the kernel does not route ::1 out of the host)", s)
		}
		p.HostIP = a
	}
	hlo, hn, err := portRange(hostPorts)
	if err != nil {
		return p, fmt.Errorf("publish %q: host port: %w", s, err)
	}
	clo, cn, err := portRange(ports)
	if err != nil {
		return p, fmt.Errorf("publish %q: container port: %w", s, err)
	}
	if hn != cn {
		return p, fmt.Errorf("publish %q: host range has %d ports, container range %d", s, hn, cn)
	}
	if hn > MaxRange {
		return p, fmt.Errorf("publish %q: a range may have at most %d ports", s, MaxRange)
	}
	p.HostPort, p.Port, p.Count = hlo, clo, uint16(hn)
	return p, nil
}

func portRange(s string) (uint16, int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := port(lo)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return a, 1, nil
	}
	b, err := port(hi)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("range %q ends before it starts", s)
	}
	return a, int(b-a) + 1, nil
}

func port(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return uint16(n), nil
}

func checkOverlap(ports []Port) error {
	for i, a := range ports {
		for _, b := range ports[:i] {
			if a.Proto != b.Proto || (a.HostIP.IsValid() && b.HostIP.IsValid() && a.HostIP != b.HostIP) {
				continue
			}
			if int(a.HostPort) < int(b.HostPort)+int(b.Count) && int(b.HostPort) < int(a.HostPort)+int(a.Count) {
				return fmt.Errorf("%s and %s publish the same host port", a, b)
			}
		}
	}
	return nil
}

// String formats p as ParsePublish reads it.
func (p Port) String() string {
	var b strings.Builder
	if p.HostIP.Is6() {
		b.WriteString("[" + p.HostIP.String() + "]:")
	} else if p.HostIP.IsValid() {
		b.WriteString(p.HostIP.String() + ":")
	}
	b.WriteString(rangeString(p.HostPort, p.Count) + ":" + rangeString(p.Port, p.Count) + "/" + p.Proto)
	return b.String()
}

func rangeString(lo, n uint16) string {
	if n <= 1 {
		return strconv.Itoa(int(lo))
	}
	return fmt.Sprintf("%d-%d", lo, int(lo)+int(n)-1)
}

// Gateway is the bridge's address: the first host address of the subnet
// (IPv4 or IPv6).
func Gateway(p netip.Prefix) netip.Addr { return p.Addr().Next() }

// Broadcast is the last address of the subnet.
func Broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Annotations returns the annotations that ask for this configuration
// (defaults left out).
func (c *Config) Annotations() map[string]string {
	m := map[string]string{AnnNetwork: "bridge"}
	if c.Bridge != "" && c.Bridge != DefaultBridge {
		m[AnnBridge] = c.Bridge
	}
	if c.Subnet.IsValid() && c.Subnet.String() != DefaultSubnet {
		m[AnnSubnet] = c.Subnet.String()
	}
	if c.IP.IsValid() {
		m[AnnIP] = c.IP.String()
	}
	if c.Subnet6.IsValid() {
		m[AnnSubnet6] = c.Subnet6.String()
	}
	if c.IP6.IsValid() {
		m[AnnIP6] = c.IP6.String()
	}
	if c.Internal {
		m[AnnInternal] = "true"
	}
	if len(c.Egress) > 0 {
		var s []string
		for _, e := range c.Egress {
			s = append(s, e.String())
		}
		m[AnnEgress] = strings.Join(s, ",")
	}
	if len(c.Ports) > 0 {
		var s []string
		for _, p := range c.Ports {
			s = append(s, p.String())
		}
		m[AnnPublish] = strings.Join(s, ",")
	}
	return m
}
