// Package ipam hands out addresses of a bridge's subnets (IPv4, and IPv6
// on a dual-stack bridge) to containers.
// Leases are files named after the container id in a directory per bridge,
// taken under an exclusive flock of the state directory's lock file, so that
// concurrent hooks never hand out one address twice, and a crash leaves at
// worst a lease file that the next set-up of the id or a gc removes. An
// index per bridge (a symlink per leased address) tells which addresses are
// in use without reading every lease.
package ipam

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrExhausted: no free address is left in the subnet.
var ErrExhausted = errors.New("no free address in the subnet")

// ErrInUse: a static address is leased to another container.
var ErrInUse = errors.New("address already leased")

// Lease is what a container holds: its address and the names of what was
// made for it, so tear-down and gc need nothing else.
type Lease struct {
	ID     string     `json:"id"`
	Bridge string     `json:"bridge"`
	IP     netip.Addr `json:"ip"`
	IP6    netip.Addr `json:"ip6,omitzero"` // on a dual-stack bridge
	Veth   string     `json:"veth"`
	Table  string     `json:"table"`
	// Pid and Start (field 22 of /proc/<pid>/stat) identify the container's
	// init: gc keeps the lease while that process lives.
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// Store is the lease directory tree under Dir.
type Store struct{ Dir string }

// Lock takes the store-wide lock, waiting at most timeout.
func (s *Store) Lock(timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	path := filepath.Join(s.Dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lease store: lock %s: %w", path, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *Store) bridgeDir(bridge string) string { return filepath.Join(s.Dir, "leases", bridge) }

// fileName is the lease file of id: the id itself, or for an id longer
// than a file name may be, "#" and the hex SHA-256 of the id.
func fileName(id string) string {
	if len(id) <= 200 {
		return id
	}
	h := sha256.Sum256([]byte(id))
	return "#" + hex.EncodeToString(h[:])
}

func validID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("lease store: invalid container id %q", id)
	}
	return nil
}

// List returns every lease of bridge (all bridges when bridge is "").
// Unreadable lease files are returned as leases with only ID and Bridge set.
func (s *Store) List(bridge string) ([]*Lease, error) {
	var bridges []string
	if bridge != "" {
		bridges = []string{bridge}
	} else {
		ents, err := os.ReadDir(filepath.Join(s.Dir, "leases"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lease store: %w", err)
		}
		for _, e := range ents {
			bridges = append(bridges, e.Name())
		}
	}
	var out []*Lease
	for _, b := range bridges {
		ents, err := os.ReadDir(s.bridgeDir(b))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("lease store: %w", err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			l := &Lease{ID: e.Name(), Bridge: b}
			if data, err := os.ReadFile(filepath.Join(s.bridgeDir(b), e.Name())); err == nil {
				var r Lease
				if json.Unmarshal(data, &r) == nil && fileName(r.ID) == e.Name() {
					l = &r
					l.Bridge = b
				}
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// Find returns the leases of id on any bridge (reading only id's files).
func (s *Store) Find(id string) ([]*Lease, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(s.Dir, "leases"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	var out []*Lease
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(s.bridgeDir(e.Name()), fileName(id)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		l := &Lease{ID: id, Bridge: e.Name()}
		var r Lease
		if err == nil && json.Unmarshal(data, &r) == nil && r.ID == id {
			l = &r
			l.Bridge = e.Name()
		}
		out = append(out, l)
	}
	return out, nil
}

// Allocate writes a lease for l.ID on l.Bridge with a free address of
// subnet (l.IP itself when it is set) and, when subnet6 is valid, one of
// subnet6 (l.IP6 when set). The caller holds the lock.
//
// The addresses in use come from the bridge's address index (one symlink
// per leased address, named after it, pointing at the lease file: one
// directory read however many leases there are), not from reading every
// lease. The index entries are made before the lease file and removed
// before it (Release), so a crash leaves at worst an entry without a lease
// (an address held back until the index is rebuilt: when the subnet looks
// full, and at gc), never a lease whose address can be handed out again
// while its container lives.
func (s *Store) Allocate(l *Lease, subnet, subnet6 netip.Prefix) error {
	if err := validID(l.ID); err != nil {
		return err
	}
	err := s.allocate(l, subnet, subnet6)
	if errors.Is(err, ErrExhausted) {
		// Entries a crash left behind may hold addresses: rebuild, retry.
		if rerr := s.RebuildIndex(l.Bridge); rerr != nil {
			return errors.Join(err, rerr)
		}
		err = s.allocate(l, subnet, subnet6)
	}
	return err
}

func (s *Store) allocate(l *Lease, subnet, subnet6 netip.Prefix) error {
	used, err := s.used(l.Bridge)
	if err != nil {
		return err
	}
	self := fileName(l.ID)
	// A static address already indexed for this very id is its own.
	for _, want := range []netip.Addr{l.IP, l.IP6} {
		if _, taken := used[want]; want.IsValid() && taken {
			if owner := s.owner(l.Bridge, want); owner == self {
				delete(used, want)
			} else {
				used[want] = owner
			}
		}
	}
	ip, err := pick(used, subnet, l.IP, true)
	if err != nil {
		return err
	}
	var ip6 netip.Addr
	if subnet6.IsValid() {
		if ip6, err = pick(used, subnet6, l.IP6, false); err != nil {
			return err
		}
	}
	idx := s.indexDir(l.Bridge)
	if err := os.MkdirAll(idx, 0o700); err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	var made []string
	undo := func() {
		for _, m := range made {
			os.Remove(m)
		}
	}
	for _, a := range []netip.Addr{ip, ip6} {
		if !a.IsValid() {
			continue
		}
		entry := filepath.Join(idx, a.String())
		if err := os.Symlink(self, entry); err != nil {
			if errors.Is(err, os.ErrExist) && s.owner(l.Bridge, a) == self {
				continue
			}
			undo()
			return fmt.Errorf("lease store: index %s: %w", a, err)
		}
		made = append(made, entry)
	}
	l.IP, l.IP6 = ip, ip6
	if err := s.writeLease(l); err != nil {
		undo()
		return err
	}
	return nil
}

func (s *Store) writeLease(l *Lease) error {
	dir := s.bridgeDir(l.Bridge)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+fileName(l.ID)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, fileName(l.ID))); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("lease store: %w", err)
	}
	return nil
}

// indexDir holds bridge's address index.
func (s *Store) indexDir(bridge string) string { return filepath.Join(s.Dir, "index", bridge) }

// owner is the lease file name the index entry of a points to ("" if none).
func (s *Store) owner(bridge string, a netip.Addr) string {
	t, _ := os.Readlink(filepath.Join(s.indexDir(bridge), a.String()))
	return t
}

// used returns the addresses in bridge's index (built from the leases when
// it does not exist yet: leases of an older rt-net). Owners are left empty.
func (s *Store) used(bridge string) (map[netip.Addr]string, error) {
	ents, err := os.ReadDir(s.indexDir(bridge))
	if errors.Is(err, os.ErrNotExist) {
		if err := s.RebuildIndex(bridge); err != nil {
			return nil, err
		}
		ents, err = os.ReadDir(s.indexDir(bridge))
	}
	if err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	used := make(map[netip.Addr]string, len(ents))
	for _, e := range ents {
		if a, err := netip.ParseAddr(e.Name()); err == nil {
			used[a] = ""
		}
	}
	return used, nil
}

// RebuildIndexes rebuilds the index of every bridge that has leases or an
// index (gc). The caller holds the lock.
func (s *Store) RebuildIndexes() error {
	bridges := map[string]bool{}
	for _, d := range []string{filepath.Join(s.Dir, "leases"), filepath.Join(s.Dir, "index")} {
		ents, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("lease store: %w", err)
		}
		for _, e := range ents {
			bridges[e.Name()] = true
		}
	}
	var errs []error
	for b := range bridges {
		if err := s.RebuildIndex(b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RebuildIndex makes bridge's address index again from its leases,
// dropping entries no lease accounts for. The caller holds the lock.
func (s *Store) RebuildIndex(bridge string) error {
	leases, err := s.List(bridge)
	if err != nil {
		return err
	}
	idx := s.indexDir(bridge)
	want := map[string]string{}
	for _, l := range leases {
		for _, a := range []netip.Addr{l.IP, l.IP6} {
			if a.IsValid() {
				want[a.String()] = fileName(l.ID)
			}
		}
	}
	if err := os.MkdirAll(idx, 0o700); err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	ents, err := os.ReadDir(idx)
	if err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(idx, e.Name())
		if t, err := os.Readlink(p); err == nil && want[e.Name()] == t {
			delete(want, e.Name())
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("lease store: %w", err)
		}
	}
	for name, target := range want {
		if err := os.Symlink(target, filepath.Join(idx, name)); err != nil {
			return fmt.Errorf("lease store: index %s: %w", name, err)
		}
	}
	return nil
}

// pick returns want when it is valid and free, else the first free host
// address of subnet after the gateway (the subnet's first address); an IPv4
// subnet's last address (broadcast) is never handed out.
func pick(used map[netip.Addr]string, subnet netip.Prefix, want netip.Addr, broadcast bool) (netip.Addr, error) {
	if want.IsValid() {
		if other, ok := used[want]; ok {
			return netip.Addr{}, fmt.Errorf("%w: %s is leased to container %q", ErrInUse, want, other)
		}
		return want, nil
	}
	gw := subnet.Addr().Next()
	for a := gw.Next(); a.IsValid() && subnet.Contains(a); a = a.Next() {
		if broadcast && !subnet.Contains(a.Next()) {
			break
		}
		if _, ok := used[a]; !ok {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w %s (%d leases)", ErrExhausted, subnet, len(used))
}

// Release removes the lease of id on bridge, its index entries first; a
// missing lease is no error.
func (s *Store) Release(bridge, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	self := fileName(id)
	path := filepath.Join(s.bridgeDir(bridge), self)
	var addrs []netip.Addr
	var l Lease
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &l) == nil && l.ID == id {
		addrs = []netip.Addr{l.IP, l.IP6}
	} else if err == nil || !errors.Is(err, os.ErrNotExist) {
		// An unreadable lease: find its entries by their target.
		ents, _ := os.ReadDir(s.indexDir(bridge))
		for _, e := range ents {
			if a, err := netip.ParseAddr(e.Name()); err == nil && s.owner(bridge, a) == self {
				addrs = append(addrs, a)
			}
		}
	}
	for _, a := range addrs {
		if a.IsValid() && s.owner(bridge, a) == self {
			if err := os.Remove(filepath.Join(s.indexDir(bridge), a.String())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("lease store: release %q: %w", id, err)
			}
		}
	}
	err := os.Remove(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lease store: release %q: %w", id, err)
	}
	return nil
}
