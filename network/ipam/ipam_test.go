package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrent allocations, each under the lock taken through its own open
// file description (as separate hook processes do), never share an address.
func TestAllocateConcurrent(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	subnet := netip.MustParsePrefix("192.0.2.0/27") // 29 host addresses, the gateway included
	var wg sync.WaitGroup
	leases := make([]*Lease, 29)
	errs := make([]error, len(leases))
	for i := range leases {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			unlock, err := s.Lock(10 * time.Second)
			if err != nil {
				errs[i] = err
				return
			}
			defer unlock()
			leases[i] = &Lease{ID: fmt.Sprintf("c%d", i), Bridge: "br0"}
			errs[i] = s.Allocate(leases[i], subnet, netip.Prefix{})
		}(i)
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	exhausted := 0
	for i, l := range leases {
		if errors.Is(errs[i], ErrExhausted) {
			exhausted++
			continue
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[l.IP] || l.IP == netip.MustParseAddr("192.0.2.1") || l.IP == netip.MustParseAddr("192.0.2.31") || !subnet.Contains(l.IP) {
			t.Fatalf("bad or duplicate address %s", l.IP)
		}
		seen[l.IP] = true
	}
	if len(seen) != 29 || exhausted != 0 {
		// .2 to .30: 29 addresses.
		t.Fatalf("%d addresses, %d exhausted", len(seen), exhausted)
	}
	if err := s.Allocate(&Lease{ID: "one-more", Bridge: "br0"}, subnet, netip.Prefix{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("allocation in a full subnet: %v", err)
	}
	if err := s.Release("br0", "c3"); err != nil {
		t.Fatal(err)
	}
	l := &Lease{ID: "again", Bridge: "br0"}
	if err := s.Allocate(l, subnet, netip.Prefix{}); err != nil || l.IP != leases[3].IP {
		t.Fatalf("after release: %v %s, want %s", err, l.IP, leases[3].IP)
	}
	if err := s.Allocate(&Lease{ID: "static", Bridge: "br0", IP: l.IP}, subnet, netip.Prefix{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("static address in use: %v", err)
	}
	found, err := s.Find("again")
	if err != nil || len(found) != 1 || found[0].IP != l.IP {
		t.Fatalf("Find: %v %v", found, err)
	}
	if err := s.Allocate(&Lease{ID: "../x", Bridge: "br0"}, subnet, netip.Prefix{}); err == nil {
		t.Fatal("an id with a slash was accepted")
	}
}

// An id longer than a file name may be still gets a lease (under a hashed
// file name) that Find and List return with the full id.
func TestLongID(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	id := strings.Repeat("x", 1000)
	if err := s.Allocate(&Lease{ID: id, Bridge: "br0"}, netip.MustParsePrefix("192.0.2.0/24"), netip.Prefix{}); err != nil {
		t.Fatal(err)
	}
	found, err := s.Find(id)
	if err != nil || len(found) != 1 || found[0].ID != id {
		t.Fatalf("Find: %v %v", found, err)
	}
	all, err := s.List("")
	if err != nil || len(all) != 1 || all[0].ID != id {
		t.Fatalf("List: %v %v", all, err)
	}
	if err := s.Release("br0", id); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.List(""); len(all) != 0 {
		t.Fatalf("left after release: %v", all)
	}
}

// On a dual-stack bridge, concurrent allocations get distinct addresses of
// both families; a static IPv6 address is honoured and refused when taken.
func TestAllocateDualStackConcurrent(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	subnet, subnet6 := netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("fd00:5::/64")
	const n = 20
	var wg sync.WaitGroup
	leases := make([]*Lease, n)
	errs := make([]error, n)
	for i := range leases {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			unlock, err := s.Lock(10 * time.Second)
			if err != nil {
				errs[i] = err
				return
			}
			defer unlock()
			leases[i] = &Lease{ID: fmt.Sprintf("c%d", i), Bridge: "br0"}
			errs[i] = s.Allocate(leases[i], subnet, subnet6)
		}(i)
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for i, l := range leases {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !subnet6.Contains(l.IP6) || l.IP6 == netip.MustParseAddr("fd00:5::1") || seen[l.IP6] || seen[l.IP] {
			t.Fatalf("bad or duplicate addresses %s %s", l.IP, l.IP6)
		}
		seen[l.IP], seen[l.IP6] = true, true
	}
	back, err := s.List("br0")
	if err != nil || len(back) != n {
		t.Fatalf("list: %d %v", len(back), err)
	}
	for _, l := range back {
		if !l.IP6.IsValid() {
			t.Fatalf("lease %s read back without its IPv6 address", l.ID)
		}
	}
	static := &Lease{ID: "static", Bridge: "br0", IP6: netip.MustParseAddr("fd00:5::99")}
	if err := s.Allocate(static, subnet, subnet6); err != nil || static.IP6.String() != "fd00:5::99" {
		t.Fatalf("static IPv6: %v %s", err, static.IP6)
	}
	if err := s.Allocate(&Lease{ID: "taken", Bridge: "br0", IP6: static.IP6}, subnet, subnet6); !errors.Is(err, ErrInUse) {
		t.Fatalf("a taken static IPv6 address: %v, want ErrInUse", err)
	}
	v4 := &Lease{ID: "v4only", Bridge: "br0"}
	if err := s.Allocate(v4, subnet, netip.Prefix{}); err != nil || v4.IP6.IsValid() {
		t.Fatalf("IPv4-only lease: %v %s", err, v4.IP6)
	}
}
