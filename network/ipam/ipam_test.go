package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrent allocations, each under the lock taken through its own open
// file description (as separate hook processes do), never share an address.
// allocateAtOnce allocates n leases (ids c0...) on br0 from n goroutines
// at once, each under the store's lock, as n concurrent set-ups do.
func allocateAtOnce(s *Store, n int, subnet, subnet6 netip.Prefix) ([]*Lease, []error) {
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
	return leases, errs
}

func TestAllocateConcurrent(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	subnet := netip.MustParsePrefix("192.0.2.0/27") // 29 host addresses, the gateway included
	leases, errs := allocateAtOnce(s, 29, subnet, netip.Prefix{})
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
	leases, errs := allocateAtOnce(s, n, subnet, subnet6)
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

// The address index: entries made with each lease and removed with it; a
// store of leases without an index (an older rt-net) gets one built; an
// entry a crash left without its lease holds its address back only until
// the subnet looks full, when the index is rebuilt.
func TestAddressIndex(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Dir: dir}
	subnet, subnet6 := netip.MustParsePrefix("192.0.2.0/29"), netip.MustParsePrefix("fd00:9::/120") // 5 addresses after the gateway
	a := &Lease{ID: "a", Bridge: "br0"}
	if err := s.Allocate(a, subnet, subnet6); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []netip.Addr{a.IP, a.IP6} {
		if target, err := os.Readlink(filepath.Join(dir, "index", "br0", ip.String())); err != nil || target != "a" {
			t.Fatalf("index entry of %s: %q %v", ip, target, err)
		}
	}
	if err := s.Release("br0", "a"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "index", "br0")); len(ents) != 0 {
		t.Fatalf("index entries left after release: %v", ents)
	}
	// Leases without an index.
	for _, id := range []string{"b", "c"} {
		if err := s.Allocate(&Lease{ID: id, Bridge: "br0"}, subnet, subnet6); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(filepath.Join(dir, "index"))
	d := &Lease{ID: "d", Bridge: "br0"}
	if err := s.Allocate(d, subnet, subnet6); err != nil {
		t.Fatal(err)
	}
	if d.IP.String() != "192.0.2.4" || d.IP6.String() != "fd00:9::4" {
		t.Fatalf("after the index was rebuilt from b and c, d got %s %s", d.IP, d.IP6)
	}
	// A crash between the index entry and the lease: .5 and .6 held by no lease.
	for _, name := range []string{"192.0.2.5", "192.0.2.6"} {
		os.Symlink("ghost", filepath.Join(dir, "index", "br0", name))
	}
	e := &Lease{ID: "e", Bridge: "br0"}
	if err := s.Allocate(e, subnet, netip.Prefix{}); err != nil || e.IP.String() != "192.0.2.5" {
		t.Fatalf("with stale entries on the last free addresses: %v %s, want 192.0.2.5 after a rebuild", err, e.IP)
	}
	if _, err := os.Lstat(filepath.Join(dir, "index", "br0", "192.0.2.6")); err == nil {
		t.Fatalf("the stale entry of 192.0.2.6 survived the rebuild")
	}
	// A static address is refused while indexed for another id, even
	// when its lease is unreadable.
	os.WriteFile(filepath.Join(dir, "leases", "br0", "b"), []byte("garbage"), 0o600)
	if err := s.Allocate(&Lease{ID: "f", Bridge: "br0", IP: netip.MustParseAddr("192.0.2.2")}, subnet, netip.Prefix{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("static address of b: %v, want ErrInUse", err)
	}
	if err := s.Release("br0", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "index", "br0", "192.0.2.2")); err == nil {
		t.Fatalf("release of an unreadable lease left its index entry")
	}
}

// BenchmarkAllocate1000 allocates and releases one lease on a bridge that
// has 1000 (the index makes that one directory read, not 1000 file reads).
func BenchmarkAllocate1000(b *testing.B) {
	s := &Store{Dir: b.TempDir()}
	subnet := netip.MustParsePrefix("10.0.0.0/16")
	for i := 0; i < 1000; i++ {
		if err := s.Allocate(&Lease{ID: fmt.Sprintf("c%d", i), Bridge: "br0"}, subnet, netip.Prefix{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("x%d", i)
		if err := s.Allocate(&Lease{ID: id, Bridge: "br0"}, subnet, netip.Prefix{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Release("br0", id); err != nil {
			b.Fatal(err)
		}
	}
}
