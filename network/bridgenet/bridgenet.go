// Package bridgenet is the set-up, tear-down and garbage collection of rt's
// bridge network for one container, as the rt-net hook runs them: leases
// (package ipam), links (package link) and netfilter tables (package
// firewall), in an order that a crash at any step leaves only what the next
// set-up of the same id, its tear-down, or Collect removes.
package bridgenet

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/network/firewall"
	"github.com/rt-runtime/rt/network/ipam"
	"github.com/rt-runtime/rt/network/link"
	"github.com/rt-runtime/rt/network/netconf"
)

// DefaultStateDir holds the lock and the leases.
const DefaultStateDir = "/run/rt-net"

// lockTimeout bounds the wait for the lease store's lock.
const lockTimeout = 20 * time.Second

// Network runs the hook's verbs against one state directory.
type Network struct {
	Store ipam.Store
	// Warn receives warnings (stderr of the hook).
	Warn io.Writer
	// CrashAfter names a step after which the process kills itself with
	// SIGKILL (fault injection for tests: "lease", "veth", "table").
	CrashAfter string
	trace      func(step string, d time.Duration)
	last       time.Time
}

// StartTrace makes the verbs tell f how long each of their steps took
// (profiling), from now on.
func (n *Network) StartTrace(f func(step string, d time.Duration)) {
	n.trace, n.last = f, time.Now()
}

// mark reports the time since the previous mark as step's.
func (n *Network) mark(step string) {
	if n.trace == nil {
		return
	}
	now := time.Now()
	n.trace(step, now.Sub(n.last))
	n.last = now
}

// New returns a Network over dir.
func New(dir string) *Network {
	return &Network{Store: ipam.Store{Dir: dir}, Warn: io.Discard}
}

func (n *Network) step(name string) {
	if n.CrashAfter == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// startTime reads field 22 of /proc/<pid>/stat.
func startTime(pid int) (uint64, error) {
	st, _, err := procStat(pid)
	return st, err
}

// procStat reads the start time (field 22) and state (field 3) of pid.
func procStat(pid int) (uint64, string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, f[0], err
}

// Setup gives the container of st (at createRuntime: its network namespace
// exists, its init is st.Pid) its veth, address, route and rules.
func (n *Network) Setup(st *specs.State) (retErr error) {
	cfg, err := netconf.Parse(st.Annotations)
	if err != nil {
		return err
	}
	if st.Pid <= 0 {
		return fmt.Errorf("state of %q has no pid: set-up runs at createRuntime, when the init exists", st.ID)
	}
	start, err := startTime(st.Pid)
	if err != nil {
		return fmt.Errorf("container init %d: %w", st.Pid, err)
	}
	nsPath := fmt.Sprintf("/proc/%d/ns/net", st.Pid)
	nsFd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", nsPath, err)
	}
	defer unix.Close(nsFd)
	var self unix.Stat_t
	var other unix.Stat_t
	if unix.Stat("/proc/self/ns/net", &self) == nil && unix.Fstat(nsFd, &other) == nil && self.Ino == other.Ino && self.Dev == other.Dev {
		return fmt.Errorf("container %q shares the hook's network namespace: the bridge network needs a new network namespace (linux.namespaces)", st.ID)
	}
	n.mark("prepare")
	fw, err := firewall.Open()
	if err != nil {
		return err
	}
	defer func() {
		fw.Close()
		n.mark("close")
	}()
	unlock, err := n.Store.Lock(lockTimeout)
	if err != nil {
		return err
	}
	n.mark("lock")
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	// Whatever an earlier, interrupted set-up of this id left. Set-up
	// writes the lease before it makes anything and tear-down removes it
	// last, so without a lease nothing of the id exists (gc removes tables
	// and veths whose lease was lost otherwise): no lookups then.
	old, err := n.Store.Find(st.ID)
	if err != nil {
		return err
	}
	if len(old) > 0 {
		if err := n.teardownLocked(opened(fw), st.ID, false); err != nil {
			return fmt.Errorf("remove leftovers of %q: %w", st.ID, err)
		}
	}
	n.mark("leftovers")
	gw := netconf.Gateway(cfg.Subnet)
	var gw6 netip.Addr
	var gw6Prefix netip.Prefix
	if cfg.DualStack() {
		gw6 = netconf.Gateway(cfg.Subnet6)
		gw6Prefix = netip.PrefixFrom(gw6, cfg.Subnet6.Bits())
	}
	brIndex, err := link.EnsureBridge(cfg.Bridge, netip.PrefixFrom(gw, cfg.Subnet.Bits()), gw6Prefix)
	if err != nil {
		return err
	}
	if err := link.Sysctls(cfg.Bridge, cfg.DualStack()); err != nil {
		return err
	}
	n.mark("bridge")
	if err := fw.EnsureShared(cfg.Bridge, cfg.Subnet); err != nil {
		return err
	}
	dc, err := fw.FixForwardDrop(cfg.Bridge)
	if err != nil {
		return err
	}
	if cfg.DualStack() {
		if err := fw.EnsureShared6(cfg.Bridge, cfg.Subnet6); err != nil {
			return err
		}
		dc6, err := fw.FixForwardDrop6(cfg.Bridge)
		if err != nil {
			return err
		}
		if dc6.Legacy {
			fmt.Fprintf(n.Warn, "rt-net: warning: legacy ip6tables tables exist; rt-net cannot see their FORWARD policy: if it drops (Docker), allow %s there (ip6tables -I DOCKER-USER -i %s -j ACCEPT; ip6tables -I DOCKER-USER -o %s -j ACCEPT)\n", cfg.Bridge, cfg.Bridge, cfg.Bridge)
		}
	}
	n.mark("shared-table")
	if dc.Legacy {
		fmt.Fprintf(n.Warn, "rt-net: warning: legacy iptables tables exist; rt-net cannot see their FORWARD policy: if it drops (Docker), allow %s there (iptables -I DOCKER-USER -i %s -j ACCEPT; iptables -I DOCKER-USER -o %s -j ACCEPT)\n", cfg.Bridge, cfg.Bridge, cfg.Bridge)
	}
	// The lease names the container's table only when it gets one: the
	// tear-down of a container without one then needs no nf_tables at all.
	lease := &ipam.Lease{ID: st.ID, Bridge: cfg.Bridge, IP: cfg.IP, IP6: cfg.IP6, Veth: link.VethName(st.ID),
		Pid: st.Pid, Start: start}
	if firewall.NeedsTable(cfg) {
		lease.Table = firewall.ContainerTable(st.ID)
	}
	if err := n.Store.Allocate(lease, cfg.Subnet, cfg.Subnet6); err != nil {
		return err
	}
	unlock()
	locked = false
	n.mark("lease")
	n.step("lease")
	defer func() {
		if retErr != nil {
			if err := n.teardown(st.ID, false); err != nil {
				fmt.Fprintf(n.Warn, "rt-net: clean up after failed set-up of %q: %v\n", st.ID, err)
			}
		}
	}()
	var ip6 netip.Prefix
	if lease.IP6.IsValid() {
		ip6 = netip.PrefixFrom(lease.IP6, cfg.Subnet6.Bits())
	}
	if err := link.Veth(st.ID, brIndex, nsFd, netip.PrefixFrom(lease.IP, cfg.Subnet.Bits()), gw, ip6, gw6); err != nil {
		return err
	}
	n.mark("veth")
	n.step("veth")
	if err := fw.AddContainer(&firewall.Container{ID: st.ID, Bridge: cfg.Bridge, IP: lease.IP, IP6: lease.IP6, Config: cfg}); err != nil {
		return err
	}
	n.mark("table")
	n.step("table")
	return nil
}

// Teardown removes id's table, veth and lease (poststop). What is already
// gone is no error.
func (n *Network) Teardown(id string) error { return n.teardown(id, true) }

// vethGoneWait bounds how long a tear-down at poststop waits for the
// kernel to remove the veth itself (see teardownLocked).
const vethGoneWait = 30 * time.Millisecond

// teardown is Teardown; poststop tells that the container is gone (its
// network namespace dying with it), as at the poststop hook.
func (n *Network) teardown(id string, poststop bool) error {
	// nf_tables is opened only when there is a table to delete.
	var fw *firewall.Conn
	get := func() (*firewall.Conn, error) {
		if fw == nil {
			c, err := firewall.Open()
			if err != nil {
				return nil, err
			}
			fw = c
		}
		return fw, nil
	}
	defer func() {
		if fw != nil {
			fw.Close()
		}
		n.mark("close")
	}()
	unlock, err := n.Store.Lock(lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	n.mark("lock")
	return n.teardownLocked(get, id, poststop)
}

// opened is a getter of an nf_tables connection already open.
func opened(fw *firewall.Conn) func() (*firewall.Conn, error) {
	return func() (*firewall.Conn, error) { return fw, nil }
}

// teardownLocked removes id's tables, veths and leases. With leases, what
// they name; without (a tear-down that finds none), the names the id would
// have.
//
// At poststop the container is gone and its network namespace with it: the
// kernel's clean-up of that namespace unregisters the veth pair on its own,
// and takes it out of the host's link list sooner (median 2 ms here) than
// an RTM_DELLINK of ours returns (6 to 35 ms: the request also waits for
// the kernel to finish freeing the devices, an rcu_barrier and their
// references). So a poststop tear-down first waits, bounded by
// vethGoneWait, for the veth to disappear, and deletes it itself only when
// it is still there (a namespace kept alive by a bind mount, or a slow
// clean-up). Either way no veth is left when it returns.
func (n *Network) teardownLocked(fwConn func() (*firewall.Conn, error), id string, poststop bool) error {
	leases, err := n.Store.Find(id)
	if err != nil {
		return err
	}
	var errs []error
	tables := map[string]bool{}
	veths := map[string]bool{link.VethName(id): true}
	if len(leases) == 0 {
		tables[firewall.ContainerTable(id)] = true
	}
	for _, l := range leases {
		if l.Table != "" {
			tables[l.Table] = true
		}
		if l.Veth != "" {
			veths[l.Veth] = true
		}
	}
	n.mark("find-lease")
	if len(tables) > 0 {
		fw, err := fwConn()
		if err != nil {
			return err
		}
		for t := range tables {
			if err := fw.DeleteTable(t); err != nil {
				errs = append(errs, err)
			}
		}
	}
	n.mark("delete-table")
	for v := range veths {
		if poststop && link.AwaitGone(v, vethGoneWait) {
			continue
		}
		if err := link.Delete(v); err != nil {
			errs = append(errs, err)
		}
	}
	n.mark("delete-veth")
	if len(errs) == 0 {
		// The lease goes last: while anything else is left, gc finds it.
		for _, l := range leases {
			if err := n.Store.Release(l.Bridge, l.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func alive(l *ipam.Lease) bool {
	if l.Pid <= 0 {
		return false
	}
	// A zombie not yet reaped is dead: its network namespace is gone.
	st, state, err := procStat(l.Pid)
	return err == nil && st == l.Start && state != "Z" && state != "X"
}

// Collect removes the leases, tables and veths of containers that no longer
// exist (their init is gone), and tables and veths no live lease names, and
// returns what it removed: container ids, and the names of orphan tables and
// veths.
func (n *Network) Collect() ([]string, error) {
	fw, err := firewall.Open()
	if err != nil {
		return nil, err
	}
	defer fw.Close()
	unlock, err := n.Store.Lock(lockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	leases, err := n.Store.List("")
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	liveTables, liveVeths := map[string]bool{}, map[string]bool{}
	dead := map[string]bool{}
	for _, l := range leases {
		if alive(l) {
			liveTables[l.Table] = true
			liveVeths[l.Veth] = true
		} else {
			dead[l.ID] = true
		}
	}
	for id := range dead {
		if err := n.teardownLocked(opened(fw), id, false); err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", id, err))
			continue
		}
		removed = append(removed, id)
	}
	tables, err := fw.ContainerTables()
	if err != nil {
		return removed, errors.Join(append(errs, err)...)
	}
	for _, t := range tables {
		if liveTables[t] {
			continue
		}
		if err := fw.DeleteTable(t); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, orphanName(t, firewall.ContainerPrefix))
	}
	veths, err := link.Owned()
	if err != nil {
		return removed, errors.Join(append(errs, err)...)
	}
	for _, v := range veths {
		if liveVeths[v] {
			continue
		}
		if err := link.Delete(v); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "veth "+v)
	}
	// Index entries a crash left without a lease.
	if err := n.Store.RebuildIndexes(); err != nil {
		errs = append(errs, err)
	}
	return dedup(removed), errors.Join(errs...)
}

// orphanName reports an orphan table by its container id when the name
// holds it.
func orphanName(table, prefix string) string {
	id := strings.TrimPrefix(table, prefix)
	if strings.HasPrefix(id, "#") {
		return "table " + table
	}
	return id
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
