package netconf

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParsePublish(t *testing.T) {
	for in, want := range map[string]Port{
		"8080:80":                  {HostPort: 8080, Port: 80, Count: 1, Proto: "tcp"},
		"53:53/udp":                {HostPort: 53, Port: 53, Count: 1, Proto: "udp"},
		"198.51.100.1:8080:80/tcp": {HostIP: netip.MustParseAddr("198.51.100.1"), HostPort: 8080, Port: 80, Count: 1, Proto: "tcp"},
		"8000-8009:9000-9009":      {HostPort: 8000, Port: 9000, Count: 10, Proto: "tcp"},
		"[2001:db8::1]:53:53/udp":  {HostIP: netip.MustParseAddr("2001:db8::1"), HostPort: 53, Port: 53, Count: 1, Proto: "udp"},
	} {
		got, err := ParsePublish(in)
		if err != nil || got != want {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, err := ParsePublish(got.String()); err != nil || again != got {
			t.Errorf("round trip of %q through %q: %+v %v", in, got.String(), again, err)
		}
	}
	for _, bad := range []string{"", "80", "0:80", "70000:80", "8080:80/sctp", "8000-8009:80", "9-1:9-1",
		"[::1]:80:80", "::1:80:80", "host:80:80", "a:b", "1-5000:1-5000",
		"[198.51.100.1]:80:80", "2001:db8::1:80:80", "[2001:db8::1]80:80", "[]:80:80", "[fe80::1%eth0]:80:80"} {
		if p, err := ParsePublish(bad); err == nil {
			t.Errorf("ParsePublish(%q) = %+v, want an error", bad, p)
		}
	}
}

func TestParse(t *testing.T) {
	c, err := Parse(map[string]string{AnnNetwork: "bridge"})
	if err != nil || c.Bridge != DefaultBridge || c.Subnet.String() != DefaultSubnet {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	full := map[string]string{AnnNetwork: "bridge", AnnBridge: "br7", AnnSubnet: "192.0.2.0/24", AnnIP: "192.0.2.9",
		AnnEgress: "198.51.100.0/24, 203.0.113.5", AnnPublish: "8080:80,53:53/udp"}
	c, err = Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	if c.IP.String() != "192.0.2.9" || len(c.Egress) != 2 || c.Egress[1].String() != "203.0.113.5/32" || len(c.Ports) != 2 {
		t.Fatalf("parsed %+v", c)
	}
	back, err := Parse(c.Annotations())
	if err != nil || back.Subnet != c.Subnet || back.IP != c.IP || len(back.Ports) != 2 || back.Bridge != "br7" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	for name, ann := range map[string]map[string]string{
		"mode":                  {AnnNetwork: "host"},
		"subnet":                {AnnNetwork: "bridge", AnnSubnet: "10.0.0.1/24"},
		"subnet6":               {AnnNetwork: "bridge", AnnSubnet: "fd00::/64"},
		"gateway ip":            {AnnNetwork: "bridge", AnnSubnet: "192.0.2.0/24", AnnIP: "192.0.2.1"},
		"outside ip":            {AnnNetwork: "bridge", AnnSubnet: "192.0.2.0/24", AnnIP: "192.0.3.1"},
		"bridge":                {AnnNetwork: "bridge", AnnBridge: "a-name-too-long-for-linux"},
		"internal":              {AnnNetwork: "bridge", AnnInternal: "yes please"},
		"internal+p":            {AnnNetwork: "bridge", AnnInternal: "true", AnnPublish: "80:80"},
		"overlap":               {AnnNetwork: "bridge", AnnPublish: "8000-8010:8000-8010,8005:80"},
		"egress":                {AnnNetwork: "bridge", AnnEgress: "example.com"},
		"subnet6 v4":            {AnnNetwork: "bridge", AnnSubnet6: "10.0.0.0/24"},
		"subnet6 /32":           {AnnNetwork: "bridge", AnnSubnet6: "2001:db8::/32"},
		"subnet6 /64 host bits": {AnnNetwork: "bridge", AnnSubnet6: "fd00::1/64"},
		"subnet6 link-local":    {AnnNetwork: "bridge", AnnSubnet6: "fe80::/64"},
		"ip6 without subnet6":   {AnnNetwork: "bridge", AnnIP6: "fd00::5"},
		"ip6 gateway":           {AnnNetwork: "bridge", AnnSubnet6: "fd00::/64", AnnIP6: "fd00::1"},
		"ip6 outside":           {AnnNetwork: "bridge", AnnSubnet6: "fd00::/64", AnnIP6: "fd01::5"},
		"egress6 without v6":    {AnnNetwork: "bridge", AnnEgress: "2001:db8::/48"},
		"publish6 without v6":   {AnnNetwork: "bridge", AnnPublish: "[2001:db8::1]:80:80"},
	} {
		if _, err := Parse(ann); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse(%v) = %v, want ErrInvalid", name, ann, err)
		}
	}
}

func TestBroadcast(t *testing.T) {
	p := netip.MustParsePrefix("10.1.2.0/23")
	if Broadcast(p).String() != "10.1.3.255" || Gateway(p).String() != "10.1.2.1" {
		t.Fatal(Broadcast(p), Gateway(p))
	}
}

func TestParseDualStack(t *testing.T) {
	ann := map[string]string{AnnNetwork: "bridge", AnnSubnet6: "fd00:77::/64", AnnIP6: "fd00:77::9",
		AnnEgress: "198.51.100.0/24,2001:db8:5::7", AnnPublish: "8080:80,[2001:db8::1]:8443:443"}
	c, err := Parse(ann)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DualStack() || c.Subnet6.String() != "fd00:77::/64" || c.IP6.String() != "fd00:77::9" ||
		c.Egress[1].String() != "2001:db8:5::7/128" || c.Ports[1].HostIP.String() != "2001:db8::1" {
		t.Fatalf("parsed %+v", c)
	}
	if Gateway(c.Subnet6).String() != "fd00:77::1" {
		t.Fatalf("gateway %s", Gateway(c.Subnet6))
	}
	back, err := Parse(c.Annotations())
	if err != nil || back.Subnet6 != c.Subnet6 || back.IP6 != c.IP6 || back.Ports[1] != c.Ports[1] || len(back.Egress) != 2 {
		t.Fatalf("round trip: %+v %v (annotations %v)", back, err, c.Annotations())
	}
	if v4, _ := Parse(map[string]string{AnnNetwork: "bridge"}); v4.DualStack() {
		t.Fatal("IPv6 without asking for it")
	}
}
