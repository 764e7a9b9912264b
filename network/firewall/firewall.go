// Package firewall writes the netfilter rules of rt's bridge network over
// nf_tables netlink (github.com/google/nftables): a shared table per bridge
// and family (masquerade, forward policy: ip, and ip6 on a dual-stack
// bridge) and one table per container (published ports, egress
// restrictions: family ip, or inet for a dual-stack container), so that a
// container's tear-down is the deletion of one table.
package firewall

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/network/netconf"
)

// Table name prefixes (shared: families ip and ip6; containers: ip or inet).
const (
	SharedPrefix    = "rt-net-" // + bridge name
	ContainerPrefix = "rt-ctr-" // + container id
)

// Forward chain priorities: before iptables' filter chains (priority 0), so
// that the drop of unsolicited inbound traffic comes first whatever else is
// installed; a container's egress chain before the shared one.
const (
	sharedForwardPriority    = -1
	containerForwardPriority = -2
)

// ContainerTable is the name of id's table: rt-ctr-<id>, or, for an id too
// long for a table name (255 bytes), rt-ctr-#<64 hex of its SHA-256>.
func ContainerTable(id string) string {
	if len(ContainerPrefix)+len(id) <= 255 {
		return ContainerPrefix + id
	}
	h := sha256.Sum256([]byte(id))
	return ContainerPrefix + "#" + hex.EncodeToString(h[:])
}

// SharedTable is the name of bridge's shared table.
func SharedTable(bridge string) string { return SharedPrefix + bridge }

// Conn wraps one nf_tables netlink connection.
type Conn struct{ c *nftables.Conn }

// Open connects to nf_tables in the current network namespace. Every
// request of the Conn goes over the one socket (instead of a socket per
// request): closing an nf_tables socket after a transaction that deleted
// something waits until the kernel has freed it (an RCU grace period), so a
// hook pays that at most once, in Close, after its other work.
func Open() (*Conn, error) {
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return &Conn{c: c}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.CloseLasting() }

func ifname(n string) []byte {
	b := make([]byte, 16)
	copy(b, n)
	return b
}

func be16(v uint16) []byte { b := make([]byte, 2); binary.BigEndian.PutUint16(b, v); return b }

func ne32(v uint32) []byte { b := make([]byte, 4); binary.NativeEndian.PutUint32(b, v); return b }

func comment(s string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, s)
}

// Expression helpers.
func iif(name string) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)}}
}

func oif(name string, eq bool) []expr.Any {
	op := expr.CmpOpEq
	if !eq {
		op = expr.CmpOpNeq
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: ifname(name)}}
}

// ipField matches the source or destination address (offset in the IPv4
// or IPv6 header, as p's family) against prefix p.
func ipField(offset uint32, p netip.Prefix) []expr.Any {
	n := uint32(p.Addr().BitLen() / 8)
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: n}}
	if p.Bits() < p.Addr().BitLen() {
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: netipMask(p.Bits(), int(n)), Xor: make([]byte, n)})
	}
	return append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()})
}

// saddr and daddr match the source and destination address against p
// (IPv4: header offsets 12 and 16; IPv6: 8 and 24).
func saddr(p netip.Prefix) []expr.Any {
	if p.Addr().Is6() {
		return ipField(8, p)
	}
	return ipField(12, p)
}

func daddr(p netip.Prefix) []expr.Any {
	if p.Addr().Is6() {
		return ipField(24, p)
	}
	return ipField(16, p)
}

// netipMask is a mask of bits ones in n bytes.
func netipMask(bits, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch {
		case bits >= 8:
			b[i] = 0xff
			bits -= 8
		case bits > 0:
			b[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return b
}

// nfproto restricts a rule of an inet table to IPv4 or IPv6 packets (as
// nft does for "ip daddr ..." there); a rule of an ip or ip6 table needs
// nothing.
func nfproto(t *nftables.Table, v6 bool) []expr.Any {
	if t.Family != nftables.TableFamilyINet {
		return nil
	}
	p := byte(unix.NFPROTO_IPV4)
	if v6 {
		p = unix.NFPROTO_IPV6
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}}}
}

func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(bits), Xor: ne32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ne32(0)},
	}
}

const ipsDstNat = 1 << 5 // IPS_DST_NAT

func ctStatusDnat() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(ipsDstNat), Xor: ne32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ne32(0)},
	}
}

func verdict(k expr.VerdictKind) expr.Any { return &expr.Verdict{Kind: k} }

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(e ...expr.Any) []expr.Any { return e }

// EnsureShared makes bridge's shared table when it is missing. The caller
// holds the network's lock, so two hooks never build it at once; the table
// is built in one netlink batch, so it exists whole or not at all.
func (c *Conn) EnsureShared(bridge string, subnet netip.Prefix) error {
	name := SharedTable(bridge)
	if old, err := c.c.ListTableOfFamily(name, nftables.TableFamilyIPv4); err == nil {
		// Made by this version (it has the input chain, the last one
		// added): keep it. Otherwise replace it in the same batch.
		if _, err := c.c.ListChain(old, "input"); err == nil {
			return nil
		}
		c.c.DelTable(old)
	}
	t := c.c.AddTable(&nftables.Table{Name: name, Family: nftables.TableFamilyIPv4})
	post := c.c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	masq := one(&expr.Counter{}, &expr.Masq{})
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for _, r := range [][]expr.Any{
		// The containers' traffic leaving through another interface.
		join(saddr(subnet), oif(bridge, false), masq),
		// The host's 127.0.0.1 reaching a published port (route_localnet).
		join(oif(bridge, true), saddr(loopback), masq),
		// Hairpin: a container reaching another through a published port
		// on a host address gets the answer back through the host.
		join(oif(bridge, true), saddr(subnet), ctStatusDnat(), masq),
	} {
		c.c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: r})
	}
	c.addSharedForward(t, bridge)
	accept := nftables.ChainPolicyAccept
	// route_localnet on the bridge (for the host's 127.0.0.1 reaching
	// published ports) would also let a container send new connections to
	// the host's loopback services: only replies may come in from the
	// bridge to 127.0.0.0/8 (as kube-proxy's fix of CVE-2020-8558).
	in := c.c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityRef(sharedForwardPriority), Policy: &accept})
	c.c.AddRule(&nftables.Rule{Table: t, Chain: in, Exprs: join(iif(bridge), daddr(loopback), []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: ne32(0)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ne32(0)},
		&expr.Counter{}, verdict(expr.VerdictDrop),
	})})
	if err := c.c.Flush(); err != nil {
		return fmt.Errorf("nftables: create table ip %s: %w", name, err)
	}
	return nil
}

// EnsureShared6 makes the IPv6 half of a dual-stack bridge's shared
// table, `table ip6 rt-net-<bridge>`, when it is missing: masquerade of
// subnet6 leaving through another interface, hairpin masquerade, and the
// forward chain that drops unsolicited traffic routed into the bridge. (No
// loopback rules: IPv6 has no route_localnet, ::1 is never published.)
func (c *Conn) EnsureShared6(bridge string, subnet6 netip.Prefix) error {
	name := SharedTable(bridge)
	if t, err := c.c.ListTableOfFamily(name, nftables.TableFamilyIPv6); err == nil {
		if _, err := c.c.ListChain(t, "forward"); err == nil {
			return nil
		}
		c.c.DelTable(t)
	}
	t := c.c.AddTable(&nftables.Table{Name: name, Family: nftables.TableFamilyIPv6})
	post := c.c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	masq := one(&expr.Counter{}, &expr.Masq{})
	for _, r := range [][]expr.Any{
		join(saddr(subnet6), oif(bridge, false), masq),
		join(oif(bridge, true), saddr(subnet6), ctStatusDnat(), masq),
	} {
		c.c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: r})
	}
	c.addSharedForward(t, bridge)
	if err := c.c.Flush(); err != nil {
		return fmt.Errorf("nftables: create table ip6 %s: %w", name, err)
	}
	return nil
}

// addSharedForward adds the shared forward chain of bridge to t (ip or ip6).
func (c *Conn) addSharedForward(t *nftables.Table, bridge string) {
	accept := nftables.ChainPolicyAccept
	fwd := c.c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRef(sharedForwardPriority), Policy: &accept})
	for _, r := range [][]expr.Any{
		join(oif(bridge, true), ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), one(verdict(expr.VerdictAccept))),
		join(oif(bridge, true), ctStatusDnat(), one(verdict(expr.VerdictAccept))),
		join(iif(bridge), one(verdict(expr.VerdictAccept))),
		// Nothing else may be routed into the containers' subnet.
		join(oif(bridge, true), one(&expr.Counter{}, verdict(expr.VerdictDrop))),
	} {
		c.c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: r})
	}
}

// Container is what one container's table is made of.
type Container struct {
	ID     string
	Bridge string
	IP     netip.Addr
	IP6    netip.Addr // invalid: IPv4 only
	Config *netconf.Config
}

func l4(proto string) []expr.Any {
	p := byte(unix.IPPROTO_TCP)
	if proto == "udp" {
		p = unix.IPPROTO_UDP
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}}}
}

func dport(port uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(port)},
	}
}

func localDst() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ne32(unix.RTN_LOCAL)},
	}
}

func dnat(to netip.Addr, port uint16) []expr.Any {
	fam := uint32(unix.NFPROTO_IPV4)
	if to.Is6() {
		fam = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: to.AsSlice()},
		&expr.Immediate{Register: 2, Data: be16(port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: fam, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

// containerFamily is the family of a container's table: ip, or inet when
// the container has IPv6 too (one table either way).
func containerFamily(ct *Container) nftables.TableFamily {
	if ct.IP6.IsValid() {
		return nftables.TableFamilyINet
	}
	return nftables.TableFamilyIPv4
}

// NeedsTable tells whether a container of cfg gets a table of its own
// (published ports, or an internal/egress restriction).
func NeedsTable(cfg *netconf.Config) bool {
	return len(cfg.Ports) > 0 || cfg.Internal || len(cfg.Egress) > 0
}

// AddContainer writes ct's table (when it needs one), in one batch.
func (c *Conn) AddContainer(ct *Container) error {
	name := ContainerTable(ct.ID)
	cfg := ct.Config
	needFwd := cfg.Internal || len(cfg.Egress) > 0
	if !NeedsTable(cfg) {
		return nil
	}
	t := c.c.AddTable(&nftables.Table{Name: name, Family: containerFamily(ct)})
	// The container's addresses, each with its family's guard.
	type family struct {
		ip    netip.Addr
		guard []expr.Any
	}
	fams := []family{{ct.IP, nfproto(t, false)}}
	if ct.IP6.IsValid() {
		fams = append(fams, family{ct.IP6, nfproto(t, true)})
	}
	if len(cfg.Ports) > 0 {
		pre := c.c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
		out := c.c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
		for _, f := range fams {
			for _, p := range cfg.Ports {
				dst := localDst()
				if p.HostIP.IsValid() {
					if p.HostIP.Is6() != f.ip.Is6() {
						continue // published on the other family only
					}
					dst = daddr(netip.PrefixFrom(p.HostIP, p.HostIP.BitLen()))
				}
				for i := uint16(0); i < p.Count; i++ {
					r := join(f.guard, dst, l4(p.Proto), dport(p.HostPort+i), one(&expr.Counter{}), dnat(f.ip, p.Port+i))
					c.c.AddRule(&nftables.Rule{Table: t, Chain: pre, Exprs: r, UserData: comment(p.String())})
					c.c.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: r, UserData: comment(p.String())})
				}
			}
		}
	}
	if needFwd {
		accept := nftables.ChainPolicyAccept
		fwd := c.c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRef(containerForwardPriority), Policy: &accept})
		for _, f := range fams {
			leaving := join(f.guard, iif(ct.Bridge), saddr(netip.PrefixFrom(f.ip, f.ip.BitLen())), oif(ct.Bridge, false))
			c.c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: join(leaving,
				ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), one(verdict(expr.VerdictAccept)))})
			if !cfg.Internal {
				for _, e := range cfg.Egress {
					if e.Addr().Is6() != f.ip.Is6() {
						continue
					}
					c.c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: join(leaving, daddr(e), one(verdict(expr.VerdictAccept))),
						UserData: comment("egress allowed")})
				}
			}
			c.c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: join(leaving, one(&expr.Counter{}, verdict(expr.VerdictDrop)))})
		}
	}
	if err := c.c.Flush(); err != nil {
		return fmt.Errorf("nftables: create table %s %s: %w", familyName(t.Family), name, err)
	}
	return nil
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	}
	return "ip"
}

// containerFamilies are the families a container's table may have.
var containerFamilies = []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyINet}

// DeleteTable removes the container table name (family ip or inet); a
// missing table is no error.
func (c *Conn) DeleteTable(name string) error {
	// Look first: a transaction that fails (deleting a missing table) makes
	// the kernel abort it with a synchronize_rcu(), milliseconds; a lookup
	// is one cheap request.
	var found []string
	for _, f := range containerFamilies {
		if _, err := c.c.ListTableOfFamily(name, f); err != nil {
			continue
		}
		c.c.DelTable(&nftables.Table{Name: name, Family: f})
		found = append(found, familyName(f))
	}
	if len(found) == 0 {
		return nil
	}
	if err := c.c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("nftables: delete table %s %s: %w", strings.Join(found, "+"), name, err)
	}
	return nil
}

// ContainerTables returns the names of every rt-ctr-* table.
func (c *Conn) ContainerTables() ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, f := range containerFamilies {
		ts, err := c.c.ListTablesOfFamily(f)
		if err != nil {
			return nil, fmt.Errorf("nftables: list %s tables: %w", familyName(f), err)
		}
		for _, t := range ts {
			if strings.HasPrefix(t.Name, ContainerPrefix) && !seen[t.Name] {
				seen[t.Name] = true
				names = append(names, t.Name)
			}
		}
	}
	return names, nil
}

// DockerCompat is what FixForwardDrop found and did.
type DockerCompat struct {
	Chain   string // the chain the accept rules went into ("" when none was needed)
	Legacy  bool   // legacy iptables tables exist: rt cannot see or change them
	Already bool   // the rules were there already
}

// FixForwardDrop handles a host whose iptables(-nft) FORWARD chain drops by
// policy (what dockerd sets): accept rules for the bridge go first into
// DOCKER-USER when that chain exists (where Docker wants them), else at the
// top of FORWARD. They are written as iptables-nft writes `-i BR -j ACCEPT`
// and `-o BR -j ACCEPT`, so `iptables -L` shows them. The shared forward chain
// has already dropped unsolicited traffic to the bridge by then.
func (c *Conn) FixForwardDrop(bridge string) (DockerCompat, error) {
	return c.fixForwardDrop(bridge, nftables.TableFamilyIPv4, "/proc/net/ip_tables_names")
}

// FixForwardDrop6 is FixForwardDrop for ip6tables(-nft) (`table ip6
// filter`), on a dual-stack bridge.
func (c *Conn) FixForwardDrop6(bridge string) (DockerCompat, error) {
	return c.fixForwardDrop(bridge, nftables.TableFamilyIPv6, "/proc/net/ip6_tables_names")
}

func (c *Conn) fixForwardDrop(bridge string, family nftables.TableFamily, legacy string) (DockerCompat, error) {
	var dc DockerCompat
	if data, err := os.ReadFile(legacy); err == nil && strings.Contains(string(data), "filter") {
		dc.Legacy = true
	}
	// Two lookups by name (not a dump of every chain: a Docker host has
	// many); a lookup that fails means the chain is not there.
	filter := &nftables.Table{Name: "filter", Family: family}
	forward, err := c.c.ListChain(filter, "FORWARD")
	if err != nil || forward.Policy == nil || *forward.Policy != nftables.ChainPolicyDrop {
		return dc, nil
	}
	target := forward
	if user, err := c.c.ListChain(filter, "DOCKER-USER"); err == nil {
		target = user
	}
	target.Table = filter
	dc.Chain = target.Name
	tag := "rt-net " + bridge
	rules, err := c.c.GetRules(target.Table, target)
	if err != nil {
		return dc, fmt.Errorf("nftables: list rules of %s filter %s: %w", familyName(family), target.Name, err)
	}
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == tag {
			dc.Already = true
			return dc, nil
		}
	}
	name := append([]byte(bridge), 0)
	for _, key := range []expr.MetaKey{expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME} {
		c.c.InsertRule(&nftables.Rule{Table: target.Table, Chain: target, UserData: comment(tag), Exprs: []expr.Any{
			&expr.Meta{Key: key, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name},
			&expr.Counter{},
			verdict(expr.VerdictAccept),
		}})
	}
	if err := c.c.Flush(); err != nil {
		return dc, fmt.Errorf("nftables: accept %s in %s filter %s: %w", bridge, familyName(family), target.Name, err)
	}
	return dc, nil
}
