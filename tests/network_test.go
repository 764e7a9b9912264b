package tests

// The bridge network (rt spec --network bridge and the rt-net hook). Every
// test builds its own world: a throw-away network namespace that plays the
// host (rt, its hooks, the bridge and the nftables rules live there) and a
// second one that plays the outside, joined by a veth pair and addressed from
// the documentation ranges 198.51.100.0/24, 203.0.113.0/24 and (IPv6)
// 2001:db8::/32; the bridges' IPv6 subnets are unique-local (fd00::/8), inside
// the host namespace only. Traffic goes
// only to addresses inside these namespaces, with bounded retries; the real
// host's links and ruleset are never touched.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	hostAddr    = "198.51.100.1" // the host's address towards the outside
	outsideAddr = "198.51.100.2" // the outside world
	hostAddr2   = "203.0.113.1"  // a second address of the host

	hostAddr6    = "2001:db8:1::1" // the host's IPv6 address towards the outside
	outsideAddr6 = "2001:db8:1::2" // the outside world's
	hostAddr6b   = "2001:db8:2::1" // a second IPv6 address of the host
)

// netWorld is the pair of namespaces of one test and the hook's state dir.
type netWorld struct {
	t        *testing.T
	host     string // /run/netns path of the host namespace
	outside  string
	stateDir string
	subnet   string // the bridge subnet, e.g. 10.231.7.0/24
	subnet6  string // an IPv6 subnet for dual-stack bundles, e.g. fd00:231:7::/64
	bridge   string
	hook     string // absolute path of rt-net
	mu       sync.Mutex
	ids      []string
}

var netSeq int

func needNetTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ip", "nft", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("network tests need %s on the test host (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
}

func sh(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNetWorld makes the host and outside namespaces. The bridge subnet is
// inside the host namespace only.
func newNetWorld(t *testing.T) *netWorld {
	t.Helper()
	needNetTools(t)
	hook := filepath.Join(filepath.Dir(rtBinary), "rt-net")
	if _, err := os.Stat(hook); err != nil {
		t.Skipf("the bridge network needs the rt-net hook beside the runtime under test (%s): %v", hook, err)
	}
	netSeq++
	tag := fmt.Sprintf("%d-%d", os.Getpid()%100000, netSeq)
	w := &netWorld{t: t, stateDir: t.TempDir(), bridge: "rtt" + fmt.Sprint(netSeq), hook: hook,
		subnet: fmt.Sprintf("10.231.%d.0/24", netSeq%250), subnet6: fmt.Sprintf("fd00:231:%x::/64", netSeq)}
	hn, on := "rtn-h-"+tag, "rtn-o-"+tag
	sh(t, "ip", "netns", "add", hn)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", hn).Run() })
	sh(t, "ip", "netns", "add", on)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", on).Run() })
	w.host, w.outside = "/run/netns/"+hn, "/run/netns/"+on
	// The veth pair is made inside the host namespace, never in the real one.
	sh(t, "ip", "-n", hn, "link", "add", "up0", "type", "veth", "peer", "name", "out0", "netns", on)
	sh(t, "ip", "-n", hn, "addr", "add", hostAddr+"/24", "dev", "up0")
	sh(t, "ip", "-n", hn, "addr", "add", hostAddr2+"/24", "dev", "up0")
	sh(t, "ip", "-n", on, "addr", "add", outsideAddr+"/24", "dev", "out0")
	// IPv6 without duplicate address detection (usable at once).
	sh(t, "ip", "-n", hn, "addr", "add", hostAddr6+"/64", "dev", "up0", "nodad")
	sh(t, "ip", "-n", hn, "addr", "add", hostAddr6b+"/64", "dev", "up0", "nodad")
	sh(t, "ip", "-n", on, "addr", "add", outsideAddr6+"/64", "dev", "out0", "nodad")
	for _, ns := range []string{hn, on} {
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	sh(t, "ip", "-n", hn, "link", "set", "up0", "up")
	sh(t, "ip", "-n", on, "link", "set", "out0", "up")
	// Containers created by the test are deleted inside the host namespace
	// before the generic cleanup (registered earlier, so it runs later).
	ctxFor(t)
	t.Cleanup(func() {
		w.mu.Lock()
		ids := append([]string(nil), w.ids...)
		w.mu.Unlock()
		for _, id := range ids {
			w.rt("delete", "--force", id)
		}
	})
	return w
}

// in runs a command in the namespace ns (a /run/netns path or /proc/PID/ns/net).
func in(ns string, timeout time.Duration, args ...string) (string, error) {
	full := append([]string{"timeout", "-s", "KILL", fmt.Sprintf("%.0f", timeout.Seconds()), "nsenter", "--net=" + ns}, args...)
	out, err := exec.Command(full[0], full[1:]...).CombinedOutput()
	return string(out), err
}

// rt runs the runtime in the host namespace with the test's --root.
func (w *netWorld) rt(args ...string) result {
	return runBinary("nsenter", append([]string{"--net=" + w.host, rtBinary, "--root", ctxFor(w.t).root}, args...), nil, "", nil)
}

func (w *netWorld) mustRT(args ...string) string {
	w.t.Helper()
	r := w.rt(args...)
	if r.code != 0 {
		w.t.Fatalf("rt %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// bundle makes a bundle whose config.json comes from
// `rt spec --network bridge <extra...>`, with the hook pointed at the test's
// state dir, running args.
func (w *netWorld) bundle(args []string, extra ...string) *bundle {
	t := w.t
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(rtBinary, append([]string{"spec", "--network", "bridge", "--bridge", w.bridge, "--subnet", w.subnet}, extra...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rt spec --network bridge: %v: %s", err, out)
	}
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "config.json"))), &s); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, func(o *specs.Spec) {
		o.Process.Args = args
		o.Annotations = s.Annotations
		o.Hooks = s.Hooks
		o.Root.Readonly = false
	})
	for _, hs := range [][]specs.Hook{b.Spec.Hooks.CreateRuntime, b.Spec.Hooks.Poststop} {
		for i := range hs {
			if hs[i].Path != w.hook {
				t.Fatalf("rt spec wrote hook %q, want %q (beside rt)", hs[i].Path, w.hook)
			}
			hs[i].Args = append([]string{hs[i].Args[0], "--state-dir", w.stateDir}, hs[i].Args[1:]...)
		}
	}
	b.write(t)
	return b
}

// start creates and starts a container of b in the host namespace.
func (w *netWorld) start(b *bundle) (string, int) {
	w.t.Helper()
	id := w.create(b)
	w.mustRT("start", id)
	return id, w.pid(id)
}

func (w *netWorld) create(b *bundle) string {
	w.t.Helper()
	id := newID(w.t)
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
	w.mustRT("create", "--bundle", b.Dir, id)
	return id
}

func (w *netWorld) pid(id string) int {
	w.t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(w.mustRT("state", id)), &st); err != nil {
		w.t.Fatal(err)
	}
	return st.Pid
}

// lease returns the leased address of id, "" when there is no lease.
func (w *netWorld) lease(id string) string {
	data, err := os.ReadFile(filepath.Join(w.stateDir, "leases", w.bridge, id))
	if err != nil {
		return ""
	}
	var l struct{ IP string }
	json.Unmarshal(data, &l)
	return l.IP
}

func (w *netWorld) ruleset() string {
	out, err := in(w.host, 10*time.Second, "nft", "list", "ruleset")
	if err != nil {
		w.t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	return out
}

func (w *netWorld) links() string {
	out, err := in(w.host, 10*time.Second, "ip", "-d", "link", "show")
	if err != nil {
		w.t.Fatalf("ip link: %v: %s", err, out)
	}
	return out
}

// assertGone fails when anything of id is left: its table, a veth with its
// alias, its lease.
func (w *netWorld) assertGone(id string) {
	w.t.Helper()
	if rs := w.ruleset(); strings.Contains(rs, "rt-ctr-"+id+" ") {
		w.t.Errorf("table rt-ctr-%s left after delete:\n%s", id, rs)
	}
	if l := w.links(); strings.Contains(l, "rt-net:"+id+"\n") {
		w.t.Errorf("veth of %s left after delete:\n%s", id, l)
	}
	if _, err := os.Stat(filepath.Join(w.stateDir, "leases", w.bridge, id)); err == nil {
		w.t.Errorf("lease of %s left after delete", id)
	}
}

// udpIn makes a UDP socket in the network namespace ns: on a locked thread
// moved into ns, which then ends with its goroutine (never reused).
func udpIn(ns string, mk func() (*net.UDPConn, error)) (*net.UDPConn, error) {
	type res struct {
		c   *net.UDPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		f, err := os.Open(ns)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := mk()
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// fetch gets url with busybox wget from namespace ns, retrying a few times
// (a just-started server may not listen yet). Bounded: 5 tries of 3 s.
func fetch(ns, url string) (string, error) {
	var out string
	var err error
	for i := 0; i < 5; i++ {
		out, err = in(ns, 3*time.Second, "busybox", "wget", "-q", "-O-", url)
		if err == nil {
			return out, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return out, err
}

// refused checks that url cannot be fetched from ns (one try, 3 s).
func refused(ns, url string) bool {
	_, err := in(ns, 3*time.Second, "busybox", "wget", "-q", "-O-", url)
	return err != nil
}

// outsideServerOf starts an httpd in the outside namespace, on its IPv6
// address when v6, whose CGI prints the client's address (busybox writes an
// IPv6 one in brackets), and returns its base URL.
func (w *netWorld) outsideServerOf(v6 bool) string {
	t := w.t
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cgi-bin"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "cgi-bin", "ip"), []byte("#!/bin/sh\necho Content-Type: text/plain\necho\necho \"$REMOTE_ADDR\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	listen, url := outsideAddr+":9000", "http://"+outsideAddr+":9000"
	if v6 {
		listen, url = "["+outsideAddr6+"]:9001", "http://["+outsideAddr6+"]:9001"
	}
	cmd := exec.Command("nsenter", "--net="+w.outside, "busybox", "httpd", "-f", "-p", listen, "-h", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return url
}

// outsideServer starts an httpd on the outside's IPv4 address whose CGI
// prints the client's address, and returns its base URL.
func (w *netWorld) outsideServer() string { return w.outsideServerOf(false) }

const webScript = `mkdir -p /www && echo "page of $(hostname)" > /www/index.html && echo 81 > /www/p81 && echo 82 > /www/p82 &&
httpd -p 80 -h /www && httpd -p 81 -h /www && httpd -p 82 -h /www && exec sleep 300`

func TestNetworkBridge(t *testing.T) {
	w := newNetWorld(t)
	srv := w.outsideServer()
	a := w.bundle([]string{"sh", "-c", webScript}, "--publish", "8080:80", "--publish", "8081-8082:81-82/tcp", "--publish", "5353:53/udp")
	a.Spec.Hostname = "web-a"
	a.write(t)
	idA, pidA := w.start(a)
	ipA := w.lease(idA)
	if ipA == "" {
		t.Fatalf("no lease for %s in %s", idA, w.stateDir)
	}
	ctrNS := fmt.Sprintf("/proc/%d/ns/net", pidA)

	t.Run("container interface", func(t *testing.T) {
		out, err := in(ctrNS, 5*time.Second, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if err != nil || !strings.Contains(out, ipA+"/24") {
			t.Fatalf("eth0 in the container: %v %s, want %s/24", err, out, ipA)
		}
		gw := strings.TrimSuffix(w.subnet, ".0/24") + ".1"
		out, _ = in(ctrNS, 5*time.Second, "ip", "route", "show", "default")
		if !strings.Contains(out, "via "+gw+" dev eth0") {
			t.Fatalf("default route in the container: %q, want via %s", out, gw)
		}
	})
	t.Run("masquerade", func(t *testing.T) {
		out, err := fetch(ctrNS, srv+"/cgi-bin/ip")
		if err != nil {
			t.Fatalf("container to outside server: %v %s", err, out)
		}
		if strings.TrimSpace(out) != hostAddr {
			t.Fatalf("the outside server saw %q, want the host's address %s", strings.TrimSpace(out), hostAddr)
		}
	})
	t.Run("published from outside", func(t *testing.T) {
		for port, want := range map[string]string{"8080/index.html": "page of web-a", "8081/p81": "81", "8082/p82": "82"} {
			out, err := fetch(w.outside, "http://"+hostAddr+":"+port)
			if err != nil || !strings.Contains(out, want) {
				t.Errorf("outside to %s:%s: %v %q, want %q", hostAddr, port, err, out, want)
			}
		}
	})
	t.Run("published from the host on each address", func(t *testing.T) {
		gw := strings.TrimSuffix(w.subnet, ".0/24") + ".1"
		for _, addr := range []string{hostAddr, hostAddr2, gw, "127.0.0.1"} {
			out, err := fetch(w.host, "http://"+addr+":8080/index.html")
			if err != nil || !strings.Contains(out, "page of web-a") {
				t.Errorf("host to %s:8080: %v %q", addr, err, out)
			}
		}
	})
	t.Run("unpublished port unreachable from outside", func(t *testing.T) {
		if !refused(w.outside, "http://"+hostAddr+":80/index.html") {
			t.Errorf("port 80 of the host answered from outside")
		}
		// An outside router that sends the container subnet to the host
		// must not get through: the forward chain drops it.
		sh(t, "ip", "-n", filepath.Base(w.outside), "route", "add", w.subnet, "via", hostAddr)
		if !refused(w.outside, "http://"+ipA+":80/index.html") {
			t.Errorf("the container's unpublished port 80 answered an outside host routing through the host")
		}
	})
	t.Run("udp published from outside", func(t *testing.T) {
		// busybox has no UDP server: a socket of the test, made in the
		// container's namespace, answers; the client's is made in the outside.
		srv, err := udpIn(ctrNS, func() (*net.UDPConn, error) { return net.ListenUDP("udp4", &net.UDPAddr{Port: 53}) })
		if err != nil {
			t.Fatalf("listen in the container's namespace: %v", err)
		}
		defer srv.Close()
		go func() {
			buf := make([]byte, 64)
			srv.SetDeadline(time.Now().Add(15 * time.Second))
			for {
				n, from, err := srv.ReadFromUDP(buf)
				if err != nil {
					return
				}
				srv.WriteToUDP(append([]byte("pong "), buf[:n]...), from)
			}
		}()
		cl, err := udpIn(w.outside, func() (*net.UDPConn, error) {
			return net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(hostAddr), Port: 5353})
		})
		if err != nil {
			t.Fatalf("dial from the outside namespace: %v", err)
		}
		defer cl.Close()
		var got string
		for i := 0; i < 5 && got == ""; i++ {
			cl.Write([]byte("ping"))
			cl.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 64)
			if n, err := cl.Read(buf); err == nil {
				got = string(buf[:n])
			}
		}
		if got != "pong ping" {
			t.Fatalf("udp %s:5353 from outside: got %q, want %q", hostAddr, got, "pong ping")
		}
	})
	t.Run("rules", func(t *testing.T) {
		rs := w.ruleset()
		for _, want := range []string{
			"table ip rt-net-" + w.bridge,
			"ip saddr " + w.subnet + " oifname != \"" + w.bridge + "\"",
			"oifname \"" + w.bridge + "\" counter packets",
			"iifname \"" + w.bridge + "\" ip daddr 127.0.0.0/8 ct state ! established,related counter",
			"table ip rt-ctr-" + idA,
			"fib daddr type local tcp dport 8080 counter",
			"dnat to " + ipA + ":80",
			"fib daddr type local udp dport 5353",
			"dnat to " + ipA + ":53",
		} {
			if !strings.Contains(rs, want) {
				t.Errorf("ruleset lacks %q:\n%s", want, rs)
			}
		}
	})
	b := w.bundle([]string{"sh", "-c", webScript})
	b.Spec.Hostname = "web-b"
	b.write(t)
	idB, pidB := w.start(b)
	ipB := w.lease(idB)
	t.Run("two containers over the bridge", func(t *testing.T) {
		if ipB == "" || ipB == ipA {
			t.Fatalf("leases: a %q, b %q", ipA, ipB)
		}
		out, err := fetch(fmt.Sprintf("/proc/%d/ns/net", pidB), "http://"+ipA+"/index.html")
		if err != nil || !strings.Contains(out, "page of web-a") {
			t.Fatalf("b to a: %v %q", err, out)
		}
		// Hairpin: b reaches a through a's published port on a host address.
		out, err = fetch(fmt.Sprintf("/proc/%d/ns/net", pidB), "http://"+hostAddr+":8080/index.html")
		if err != nil || !strings.Contains(out, "page of web-a") {
			t.Fatalf("b to a through %s:8080: %v %q", hostAddr, err, out)
		}
	})
	t.Run("SIGKILLed then deleted leaves nothing", func(t *testing.T) {
		w.mustRT("kill", idA, "KILL")
		if !waitGone(pidA, 10*time.Second) {
			t.Fatalf("init %d survived SIGKILL", pidA)
		}
		w.mustRT("delete", idA)
		w.assertGone(idA)
		if !refused(w.outside, "http://"+hostAddr+":8080/index.html") {
			t.Errorf("the published port still answers after delete")
		}
	})
	t.Run("delete --force leaves nothing", func(t *testing.T) {
		w.mustRT("delete", "--force", idB)
		w.assertGone(idB)
		if !strings.Contains(w.ruleset(), "table ip rt-net-"+w.bridge) {
			t.Errorf("the shared table went away with the last container")
		}
	})
}

// TestNetworkInterruptedSetup kills the hook (SIGKILL, through its fault
// injection point) after it wrote the lease and the container's table (a
// dual-stack one), and checks that gc, and the next set-up of the same id,
// remove what it left.
func TestNetworkInterruptedSetup(t *testing.T) {
	w := newNetWorld(t)
	// Dual stack: the table left is an inet one, the lease has two addresses.
	b := w.bundle([]string{"sleep", "300"}, "--publish", "8080:80", "--subnet6", w.subnet6)
	crash := func() {
		b.Spec.Hooks.CreateRuntime[0].Env = []string{"RT_NET_CRASH_AFTER=table", "PATH=/usr/bin:/bin"}
		b.write(t)
	}
	crash()
	id := newID(t)
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
	if r := w.rt("create", "--bundle", b.Dir, id); r.code == 0 {
		t.Fatalf("create succeeded although its hook was killed")
	}
	if w.lease(id) == "" || !strings.Contains(w.ruleset(), "table inet rt-ctr-"+id+" ") {
		t.Fatalf("the killed hook left no lease or table: nothing to test\n%s", w.ruleset())
	}
	gc := exec.Command("nsenter", "--net="+w.host, w.hook, "--state-dir", w.stateDir, "gc")
	out, err := gc.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != id {
		t.Fatalf("rt-net gc: %v %q, want it to report %s", err, out, id)
	}
	w.assertGone(id)

	// Again, and this time the next create of the same id cleans up.
	w.rt("delete", "--force", id)
	if r := w.rt("create", "--bundle", b.Dir, id); r.code == 0 {
		t.Fatalf("create succeeded although its hook was killed")
	}
	stale := w.lease(id)
	w.rt("delete", "--force", id)
	b.Spec.Hooks.CreateRuntime[0].Env = nil
	b.write(t)
	w.mustRT("create", "--bundle", b.Dir, id)
	if w.lease(id) == "" || stale == "" {
		t.Fatalf("leases: stale %q, new %q", stale, w.lease(id))
	}
	if n := strings.Count(w.ruleset(), "table inet rt-ctr-"+id+" "); n != 1 {
		t.Fatalf("%d tables for %s after a new set-up", n, id)
	}
	// gc keeps what a live container holds.
	out, err = exec.Command("nsenter", "--net="+w.host, w.hook, "--state-dir", w.stateDir, "gc").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("gc with a live container: %v %q, want nothing removed", err, out)
	}
	w.mustRT("delete", "--force", id)
	w.assertGone(id)
}

// TestNetworkConcurrentCreates creates 20 containers at once on a
// dual-stack bridge: 20 distinct IPv4 and 20 distinct IPv6 addresses, each
// the one the container has, and nothing left after they are deleted.
func TestNetworkConcurrentCreates(t *testing.T) {
	w := newNetWorld(t)
	b := w.bundle([]string{"sleep", "300"}, "--subnet6", w.subnet6)
	const n = 20
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range ids {
		ids[i] = newID(t)
		w.mu.Lock()
		w.ids = append(w.ids, ids[i])
		w.mu.Unlock()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := w.rt("create", "--bundle", b.Dir, ids[i]); r.code != 0 {
				errs[i] = r.stderr
			}
		}(i)
	}
	wg.Wait()
	seen := map[string]string{}
	for i, id := range ids {
		if errs[i] != "" {
			t.Errorf("create %s: %s", id, errs[i])
			continue
		}
		ip := w.lease(id)
		if ip == "" {
			t.Errorf("no lease for %s", id)
		} else if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s both got %s", other, id, ip)
		}
		seen[ip] = id
		ip6 := w.lease6(id)
		if ip6 == "" {
			t.Errorf("no IPv6 lease for %s", id)
		} else if other, dup := seen[ip6]; dup {
			t.Errorf("%s and %s both got %s", other, id, ip6)
		}
		seen[ip6] = id
		// The addresses are the ones the container has.
		out, _ := in(fmt.Sprintf("/proc/%d/ns/net", w.pid(id)), 5*time.Second, "ip", "-o", "addr", "show", "dev", "eth0")
		if !strings.Contains(out, ip+"/") || !strings.Contains(out, ip6+"/") {
			t.Errorf("%s: eth0 has %q, lease says %s and %s", id, out, ip, ip6)
		}
	}
	for _, id := range ids {
		w.rt("delete", "--force", id)
	}
	if ents, _ := os.ReadDir(filepath.Join(w.stateDir, "leases", w.bridge)); len(ents) != 0 {
		t.Errorf("%d leases left after deleting every container", len(ents))
	}
	if ents, err := os.ReadDir(filepath.Join(w.stateDir, "index", w.bridge)); err != nil || len(ents) != 0 {
		t.Errorf("address index after deleting every container: %d entries, %v; want an empty one", len(ents), err)
	}
	if l := w.links(); regexp.MustCompile(`rt-net:`).MatchString(l) {
		t.Errorf("veths left:\n%s", l)
	}
}

// TestNetworkDockerHost: a host whose iptables FORWARD policy drops (as
// dockerd leaves it) with a DOCKER-USER chain: rt-net adds its accept rules
// there, and the container still reaches the outside.
func TestNetworkDockerHost(t *testing.T) {
	w := newNetWorld(t)
	srv := w.outsideServer()
	rules := `table ip filter {
	chain DOCKER-USER {
	}
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
	}
}
`
	f := filepath.Join(t.TempDir(), "docker.nft")
	os.WriteFile(f, []byte(rules), 0o644)
	if out, err := in(w.host, 10*time.Second, "nft", "-f", f); err != nil {
		t.Fatalf("nft -f: %v %s", err, out)
	}
	b := w.bundle([]string{"sleep", "300"})
	_, pid := w.start(b)
	out, err := fetch(fmt.Sprintf("/proc/%d/ns/net", pid), srv+"/cgi-bin/ip")
	if err != nil || strings.TrimSpace(out) != hostAddr {
		t.Fatalf("container to outside with FORWARD policy drop: %v %q\n%s", err, out, w.ruleset())
	}
	rs := w.ruleset()
	i := strings.Index(rs, "chain DOCKER-USER")
	if i < 0 || !strings.Contains(rs[i:], `iifname "`+w.bridge+`" counter`) || !strings.Contains(rs[i:], `comment "rt-net `+w.bridge+`"`) {
		t.Fatalf("no accept rules for %s in DOCKER-USER:\n%s", w.bridge, rs)
	}
}

// TestNetworkInternalEgress: an internal container reaches other containers
// but not the outside; one with an egress allow-list reaches only what is on
// the list.
func TestNetworkInternalEgress(t *testing.T) {
	w := newNetWorld(t)
	srv := w.outsideServer()
	web := w.bundle([]string{"sh", "-c", webScript})
	idWeb, _ := w.start(web)
	ipWeb := w.lease(idWeb)

	internal := w.bundle([]string{"sleep", "300"})
	internal.Spec.Annotations["rt.network.internal"] = "true"
	internal.write(t)
	_, pidI := w.start(internal)
	nsI := fmt.Sprintf("/proc/%d/ns/net", pidI)
	if out, err := fetch(nsI, "http://"+ipWeb+"/index.html"); err != nil {
		t.Errorf("internal container to a container on the bridge: %v %q", err, out)
	}
	if !refused(nsI, srv+"/cgi-bin/ip") {
		t.Errorf("internal container reached the outside")
	}

	allowed := w.bundle([]string{"sleep", "300"})
	allowed.Spec.Annotations["rt.network.egress"] = "203.0.113.0/24"
	allowed.write(t)
	_, pidE := w.start(allowed)
	nsE := fmt.Sprintf("/proc/%d/ns/net", pidE)
	if !refused(nsE, srv+"/cgi-bin/ip") {
		t.Errorf("container with egress 203.0.113.0/24 reached %s", outsideAddr)
	}
	allowed2 := w.bundle([]string{"sleep", "300"})
	allowed2.Spec.Annotations["rt.network.egress"] = outsideAddr
	allowed2.write(t)
	_, pidE2 := w.start(allowed2)
	if out, err := fetch(fmt.Sprintf("/proc/%d/ns/net", pidE2), srv+"/cgi-bin/ip"); err != nil {
		t.Errorf("container with egress %s: %v %q", outsideAddr, err, out)
	}
}

// TestSpecNetwork: `rt spec --network bridge --publish ...` writes the rt-net
// hooks (found beside rt) and the annotations; bad flags are refused and
// write nothing.
func TestSpecNetwork(t *testing.T) {
	hook := filepath.Join(filepath.Dir(rtBinary), "rt-net")
	if _, err := os.Stat(hook); err != nil {
		t.Skipf("rt spec --network needs the rt-net hook beside the runtime under test (%s): %v", hook, err)
	}
	dir := t.TempDir()
	cmd := exec.Command(rtBinary, "spec", "--network", "bridge", "--publish", "8080:80", "--publish", "198.51.100.1:5300-5301:53-54/udp",
		"--subnet6", "fd00:1:2::/64", "--publish", "[2001:db8::5]:8443:443")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rt spec: %v %s", err, out)
	}
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "config.json"))), &s); err != nil {
		t.Fatal(err)
	}
	if s.Annotations["rt.network"] != "bridge" || s.Annotations["rt.network.publish"] != "8080:80/tcp,198.51.100.1:5300-5301:53-54/udp,[2001:db8::5]:8443:443/tcp" ||
		s.Annotations["rt.network.subnet6"] != "fd00:1:2::/64" {
		t.Errorf("annotations %v", s.Annotations)
	}
	if s.Hooks == nil || len(s.Hooks.CreateRuntime) != 1 || len(s.Hooks.Poststop) != 1 ||
		s.Hooks.CreateRuntime[0].Path != hook || strings.Join(s.Hooks.CreateRuntime[0].Args, " ") != "rt-net setup" ||
		s.Hooks.Poststop[0].Path != hook || strings.Join(s.Hooks.Poststop[0].Args, " ") != "rt-net teardown" {
		t.Errorf("hooks %+v", s.Hooks)
	}
	for _, bad := range [][]string{
		{"--publish", "8080:80"},
		{"--network", "host"},
		{"--network", "bridge", "--publish", "80"},
		{"--network", "bridge", "--publish", "8080:80/sctp"},
		{"--network", "bridge", "--subnet", "10.0.0.1/8"},
		{"--network", "bridge", "--rootless"},
		{"--subnet6", "fd00::/64"},
		{"--network", "bridge", "--subnet6", "10.0.0.0/24"},
		{"--network", "bridge", "--subnet6", "fd00::/32"},
		{"--network", "bridge", "--publish", "[2001:db8::5]:80:80"},
	} {
		d := t.TempDir()
		cmd := exec.Command(rtBinary, append([]string{"spec"}, bad...)...)
		cmd.Dir = d
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("rt spec %v succeeded", bad)
		}
		if _, err := os.Stat(filepath.Join(d, "config.json")); err == nil {
			t.Errorf("rt spec %v wrote config.json (%s)", bad, out)
		}
	}
}

// TestNetDevices: linux.netDevices moves one end of a veth pair (this kernel
// has no dummy driver) from the test's host namespace into the container,
// renamed, with its permanent global address; a missing device fails the
// create naming the field and leaves nothing.
func TestNetDevices(t *testing.T) {
	w := newNetWorld(t)
	hn := filepath.Base(w.host)
	sh(t, "ip", "-n", hn, "link", "add", "nd0", "type", "veth", "peer", "name", "nd1")
	sh(t, "ip", "-n", hn, "addr", "add", "203.0.113.77/24", "dev", "nd0")
	sh(t, "ip", "-n", hn, "addr", "add", "fe80::77/64", "dev", "nd0") // link scope: not carried over
	b := newBundle(t, withArgs("sh", "-c", "ip -o addr show dev ctr0; ip -o link show dev ctr0"))
	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"nd0": {Name: "ctr0"}}
	b.write(t)
	id := newID(t)
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
	out := w.mustRT("run", "--bundle", b.Dir, id)
	if !strings.Contains(out, "ctr0") || !strings.Contains(out, "inet 203.0.113.77/24") {
		t.Fatalf("in the container: %q, want ctr0 with 203.0.113.77/24", out)
	}
	if strings.Contains(out, "fe80::77") {
		t.Errorf("the link-scope address came along: %q", out)
	}
	if !strings.Contains(out, ",UP") && !strings.Contains(out, "<UP") {
		t.Errorf("ctr0 is not up in the container: %q", out)
	}
	// The container's namespace is gone: a veth dies with it, peer
	// included (the kernel cleans namespaces up asynchronously).
	if !pollUntil(10*time.Second, func() bool { l := w.links(); return !strings.Contains(l, "nd0") && !strings.Contains(l, "nd1") }) {
		t.Errorf("the moved veth survived the container:\n%s", w.links())
	}

	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"nosuch0": {}}
	b.write(t)
	id2 := newID(t)
	r := w.rt("run", "--bundle", b.Dir, id2)
	if r.code == 0 || !strings.Contains(r.stderr, `linux.netDevices["nosuch0"]`) {
		t.Fatalf("run with a missing device: exit %d, stderr %q; want an error naming linux.netDevices", r.code, r.stderr)
	}
	if st := w.rt("state", id2); st.code == 0 {
		t.Errorf("a failed create left state: %s", st.stdout)
	}

	for name, devs := range map[string]map[string]specs.LinuxNetDevice{
		"bad host name": {"a/b": {}},
		"bad new name":  {"nd0": {Name: "much-too-long-name"}},
		"same new name": {"nd0": {Name: "x0"}, "nd1": {Name: "x0"}},
	} {
		b.Spec.Linux.NetDevices = devs
		b.write(t)
		if r := w.rt("run", "--bundle", b.Dir, newID(t)); r.code == 0 || !strings.Contains(r.stderr, "linux.netDevices") {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"nd0": {}}
	setNamespaces(b.Spec, specs.PIDNamespace, specs.MountNamespace)
	b.write(t)
	if r := w.rt("run", "--bundle", b.Dir, newID(t)); r.code == 0 || !strings.Contains(r.stderr, "without a private NET namespace") {
		t.Errorf("netDevices without a network namespace: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestNetworkLongID: an id longer than the hook keeps in a file name (rt
// itself takes ids of up to about 235 bytes: its state directory is named
// after them) gets its lease under a hashed file name and leaves nothing
// after delete. (Table names and aliases are hashed past 248 bytes, for
// runtimes that allow longer ids.)
func TestNetworkLongID(t *testing.T) {
	w := newNetWorld(t)
	b := w.bundle([]string{"sleep", "300"}, "--publish", "8080:80")
	id := strings.Repeat("l", 220) + newID(t)[:10]
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
	w.mustRT("create", "--bundle", b.Dir, id)
	if rs := w.ruleset(); !strings.Contains(rs, "table ip rt-ctr-"+id+" ") {
		t.Fatalf("no table for the long id:\n%s", rs)
	}
	ents, _ := os.ReadDir(filepath.Join(w.stateDir, "leases", w.bridge))
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "#") {
		t.Fatalf("leases %v, want one hashed file name", ents)
	}
	w.mustRT("delete", "--force", id)
	if rs := w.ruleset(); strings.Contains(rs, "rt-ctr-") {
		t.Errorf("table left:\n%s", rs)
	}
	if l := w.links(); strings.Contains(l, "rt-net:") {
		t.Errorf("veth left:\n%s", l)
	}
	if ents, _ := os.ReadDir(filepath.Join(w.stateDir, "leases", w.bridge)); len(ents) != 0 {
		t.Errorf("lease left")
	}
}

// TestNetworkGCOrphans: gc removes an rt-ctr-* table and an rt-net veth that
// no lease names (what a crash between their creation and the lease's
// removal, or a lost lease directory, leaves), and nothing else.
func TestNetworkGCOrphans(t *testing.T) {
	w := newNetWorld(t)
	hn := filepath.Base(w.host)
	f := filepath.Join(t.TempDir(), "orphan.nft")
	os.WriteFile(f, []byte("table ip rt-ctr-ghost {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat;\n\t}\n}\ntable ip bystander {\n}\n"), 0o644)
	if out, err := in(w.host, 10*time.Second, "nft", "-f", f); err != nil {
		t.Fatalf("nft -f: %v %s", err, out)
	}
	sh(t, "ip", "-n", hn, "link", "add", "rtvghost", "type", "veth", "peer", "name", "ghostpeer")
	sh(t, "ip", "-n", hn, "link", "set", "rtvghost", "alias", "rt-net:ghost")
	sh(t, "ip", "-n", hn, "link", "add", "other0", "type", "veth", "peer", "name", "other1")
	out, err := exec.Command("nsenter", "--net="+w.host, w.hook, "--state-dir", w.stateDir, "gc").CombinedOutput()
	if err != nil {
		t.Fatalf("gc: %v %s", err, out)
	}
	if !strings.Contains(string(out), "ghost") || !strings.Contains(string(out), "veth rtvghost") {
		t.Errorf("gc reported %q, want the table of ghost and veth rtvghost", out)
	}
	rs := w.ruleset()
	if strings.Contains(rs, "rt-ctr-ghost") || !strings.Contains(rs, "table ip bystander") {
		t.Errorf("after gc:\n%s", rs)
	}
	l := w.links()
	if strings.Contains(l, "rtvghost") || !strings.Contains(l, "other0") {
		t.Errorf("after gc:\n%s", l)
	}
}

// TestNetworkLoopbackGuard: route_localnet on the bridge (for 127.0.0.1
// reaching published ports) must not let a container open connections to
// the host's loopback services (CVE-2020-8558 in kube-proxy). The container
// side plays an attacker with CAP_NET_ADMIN: it routes 127.0.0.2 (a host
// loopback address that is no longer local in the container) through the
// bridge. With rt-net's input rule the connection fails; with the rule
// flushed it succeeds, which shows the check can fail.
func TestNetworkLoopbackGuard(t *testing.T) {
	w := newNetWorld(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("host loopback secret\n"), 0o644)
	srv := exec.Command("nsenter", "--net="+w.host, "busybox", "httpd", "-f", "-p", "127.0.0.2:9999", "-h", dir)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if out, err := fetch(w.host, "http://127.0.0.2:9999/"); err != nil || !strings.Contains(out, "secret") {
		t.Fatalf("host loopback server: %v %q", err, out)
	}
	b := w.bundle([]string{"sleep", "300"})
	_, pid := w.start(b)
	ns := fmt.Sprintf("/proc/%d/ns/net", pid)
	gw := strings.TrimSuffix(w.subnet, ".0/24") + ".1"
	for _, c := range [][]string{
		{"sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet"},
		{"ip", "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local"},
		{"ip", "route", "add", "127.0.0.2/32", "via", gw, "dev", "eth0"},
	} {
		if out, err := in(ns, 5*time.Second, c...); err != nil {
			t.Fatalf("%v in the container's namespace: %v %s", c, err, out)
		}
	}
	if !refused(ns, "http://127.0.0.2:9999/") {
		t.Fatalf("the container reached the host's 127.0.0.2:9999 through the bridge")
	}
	if out, err := in(w.host, 5*time.Second, "nft", "flush", "chain", "ip", "rt-net-"+w.bridge, "input"); err != nil {
		t.Fatalf("nft flush chain: %v %s", err, out)
	}
	if out, err := fetch(ns, "http://127.0.0.2:9999/"); err != nil || !strings.Contains(out, "secret") {
		t.Fatalf("without the input rule the attack should work (or this test proves nothing): %v %q", err, out)
	}
}

// gw6 is the bridge's IPv6 address (the first of subnet6).
func (w *netWorld) gw6() string { return strings.TrimSuffix(w.subnet6, "/64") + "1" }

// lease6 returns the leased IPv6 address of id, "" when there is none.
func (w *netWorld) lease6(id string) string {
	data, err := os.ReadFile(filepath.Join(w.stateDir, "leases", w.bridge, id))
	if err != nil {
		return ""
	}
	var l struct{ IP6 string }
	json.Unmarshal(data, &l)
	return l.IP6
}

// TestNetworkIPv6: a dual-stack bridge (rt spec --subnet6). The container
// gets an IPv6 address and default route besides its IPv4 ones; it reaches
// an outside server over IPv6, which sees the host's address (masquerade);
// published ports answer over IPv6 from outside and from the host on each of
// its IPv6 addresses, a port published on one IPv6 host address only there;
// unsolicited IPv6 traffic routed into the bridge and unpublished ports are
// refused; two containers talk over IPv6, also through a published port
// (hairpin); the rules are one inet table per container and an ip6 shared
// table; nothing is left after delete, and IPv4 keeps working.
func TestNetworkIPv6(t *testing.T) {
	w := newNetWorld(t)
	srv6 := w.outsideServerOf(true)
	srv4 := w.outsideServer()
	a := w.bundle([]string{"sh", "-c", webScript}, "--subnet6", w.subnet6,
		"--publish", "8080:80", "--publish", "["+hostAddr6b+"]:9090:81")
	a.Spec.Hostname = "web6-a"
	a.write(t)
	idA, pidA := w.start(a)
	ipA, ip6A := w.lease(idA), w.lease6(idA)
	if ipA == "" || ip6A == "" {
		t.Fatalf("lease of %s: IPv4 %q, IPv6 %q; want both", idA, ipA, ip6A)
	}
	ctrNS := fmt.Sprintf("/proc/%d/ns/net", pidA)

	t.Run("container interface", func(t *testing.T) {
		out, err := in(ctrNS, 5*time.Second, "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")
		if err != nil || !strings.Contains(out, ip6A+"/64") || strings.Contains(out, "tentative") {
			t.Fatalf("eth0 in the container: %v %s, want %s/64 (not tentative)", err, out, ip6A)
		}
		out, _ = in(ctrNS, 5*time.Second, "ip", "-6", "route", "show", "default")
		if !strings.Contains(out, "via "+w.gw6()+" dev eth0") {
			t.Fatalf("IPv6 default route in the container: %q, want via %s", out, w.gw6())
		}
		out, _ = in(ctrNS, 5*time.Second, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if !strings.Contains(out, ipA+"/24") {
			t.Fatalf("eth0 lost its IPv4 address: %q", out)
		}
	})
	t.Run("masquerade", func(t *testing.T) {
		out, err := fetch(ctrNS, srv6+"/cgi-bin/ip")
		if err != nil {
			t.Fatalf("container to outside server over IPv6: %v %s", err, out)
		}
		if got := strings.Trim(strings.TrimSpace(out), "[]"); got != hostAddr6 {
			t.Fatalf("the outside server saw %q, want the host's address %s", got, hostAddr6)
		}
		if out, err := fetch(ctrNS, srv4+"/cgi-bin/ip"); err != nil || strings.TrimSpace(out) != hostAddr {
			t.Fatalf("container to outside server over IPv4: %v %q", err, out)
		}
	})
	t.Run("published from outside", func(t *testing.T) {
		if out, err := fetch(w.outside, "http://["+hostAddr6+"]:8080/index.html"); err != nil || !strings.Contains(out, "page of web6-a") {
			t.Errorf("outside to [%s]:8080: %v %q", hostAddr6, err, out)
		}
		if out, err := fetch(w.outside, "http://"+hostAddr+":8080/index.html"); err != nil || !strings.Contains(out, "page of web6-a") {
			t.Errorf("outside to %s:8080 (IPv4 of the same container): %v %q", hostAddr, err, out)
		}
		if !refused(w.outside, "http://["+hostAddr6+"]:9090/p81") {
			t.Errorf("[%s]:9090 answered; it is published on %s only", hostAddr6, hostAddr6b)
		}
	})
	t.Run("published from the host on each IPv6 address", func(t *testing.T) {
		for _, addr := range []string{hostAddr6, hostAddr6b, w.gw6()} {
			out, err := fetch(w.host, "http://["+addr+"]:8080/index.html")
			if err != nil || !strings.Contains(out, "page of web6-a") {
				t.Errorf("host to [%s]:8080: %v %q", addr, err, out)
			}
		}
		if out, err := fetch(w.host, "http://["+hostAddr6b+"]:9090/p81"); err != nil || strings.TrimSpace(out) != "81" {
			t.Errorf("host to [%s]:9090: %v %q", hostAddr6b, err, out)
		}
	})
	t.Run("unpublished and unsolicited refused", func(t *testing.T) {
		if !refused(w.outside, "http://["+hostAddr6+"]:80/index.html") {
			t.Errorf("port 80 of the host answered over IPv6 from outside")
		}
		sh(t, "ip", "-n", filepath.Base(w.outside), "-6", "route", "add", w.subnet6, "via", hostAddr6)
		if !refused(w.outside, "http://["+ip6A+"]:80/index.html") {
			t.Errorf("the container's unpublished port 80 answered an outside host routing IPv6 through the host")
		}
		// Without the shared ip6 forward chain the same request gets
		// through (else this check proves nothing); the chain is put back.
		if out, err := in(w.host, 5*time.Second, "nft", "flush", "chain", "ip6", "rt-net-"+w.bridge, "forward"); err != nil {
			t.Fatalf("nft flush chain: %v %s", err, out)
		}
		out, err := fetch(w.outside, "http://["+ip6A+"]:80/index.html")
		if err != nil || !strings.Contains(out, "page of web6-a") {
			t.Errorf("with the forward chain flushed, outside to [%s]:80: %v %q: the refusal above may not come from rt-net's rule", ip6A, err, out)
		}
		if out, err := in(w.host, 5*time.Second, "nft", "delete", "table", "ip6", "rt-net-"+w.bridge); err != nil {
			t.Fatalf("nft delete table: %v %s", err, out)
		}
		// The next set-up on the bridge makes the shared table again, whole.
		c := w.bundle([]string{"true"}, "--subnet6", w.subnet6)
		w.mustRT("run", "--bundle", c.Dir, newID(t))
		if rs := w.ruleset(); !strings.Contains(rs, "oifname \""+w.bridge+"\" counter packets") || !strings.Contains(rs, "table ip6 rt-net-"+w.bridge) {
			t.Fatalf("the shared ip6 table was not made again:\n%s", rs)
		}
		if !refused(w.outside, "http://["+ip6A+"]:80/index.html") {
			t.Errorf("unsolicited IPv6 traffic got through after the shared table was made again")
		}
	})
	t.Run("rules", func(t *testing.T) {
		rs := w.ruleset()
		for _, want := range []string{
			"table ip6 rt-net-" + w.bridge,
			"ip6 saddr " + w.subnet6 + " oifname != \"" + w.bridge + "\"",
			"table ip rt-net-" + w.bridge,
			"table inet rt-ctr-" + idA,
			"dnat ip6 to [" + ip6A + "]:80",
			"dnat ip to " + ipA + ":80",
			"ip6 daddr " + hostAddr6b + " tcp dport 9090",
		} {
			if !strings.Contains(rs, want) {
				t.Errorf("ruleset lacks %q:\n%s", want, rs)
			}
		}
		if strings.Contains(rs, "table ip rt-ctr-"+idA+" ") {
			t.Errorf("a dual-stack container has more than its inet table:\n%s", rs)
		}
	})
	b := w.bundle([]string{"sh", "-c", webScript}, "--subnet6", w.subnet6)
	idB, pidB := w.start(b)
	ip6B := w.lease6(idB)
	t.Run("two containers over the bridge", func(t *testing.T) {
		if ip6B == "" || ip6B == ip6A {
			t.Fatalf("IPv6 leases: a %q, b %q", ip6A, ip6B)
		}
		nsB := fmt.Sprintf("/proc/%d/ns/net", pidB)
		if out, err := fetch(nsB, "http://["+ip6A+"]/index.html"); err != nil || !strings.Contains(out, "page of web6-a") {
			t.Fatalf("b to a over IPv6: %v %q", err, out)
		}
		if out, err := fetch(nsB, "http://["+hostAddr6+"]:8080/index.html"); err != nil || !strings.Contains(out, "page of web6-a") {
			t.Fatalf("b to a through [%s]:8080: %v %q", hostAddr6, err, out)
		}
	})
	t.Run("internal and egress", func(t *testing.T) {
		internal := w.bundle([]string{"sleep", "300"}, "--subnet6", w.subnet6)
		internal.Spec.Annotations["rt.network.internal"] = "true"
		internal.write(t)
		_, pidI := w.start(internal)
		nsI := fmt.Sprintf("/proc/%d/ns/net", pidI)
		if out, err := fetch(nsI, "http://["+ip6A+"]/index.html"); err != nil {
			t.Errorf("internal container to a container over IPv6: %v %q", err, out)
		}
		if !refused(nsI, srv6+"/cgi-bin/ip") {
			t.Errorf("internal container reached the outside over IPv6")
		}
		// Only an IPv6 destination allowed: IPv4 beyond the bridge is closed.
		egress := w.bundle([]string{"sleep", "300"}, "--subnet6", w.subnet6)
		egress.Spec.Annotations["rt.network.egress"] = outsideAddr6
		egress.write(t)
		_, pidE := w.start(egress)
		nsE := fmt.Sprintf("/proc/%d/ns/net", pidE)
		if out, err := fetch(nsE, srv6+"/cgi-bin/ip"); err != nil {
			t.Errorf("container with egress %s to it: %v %q", outsideAddr6, err, out)
		}
		if !refused(nsE, srv4+"/cgi-bin/ip") {
			t.Errorf("container with egress %s only reached %s", outsideAddr6, outsideAddr)
		}
	})
	t.Run("delete leaves nothing", func(t *testing.T) {
		w.mustRT("kill", idA, "KILL")
		if !waitGone(pidA, 10*time.Second) {
			t.Fatalf("init %d survived SIGKILL", pidA)
		}
		w.mustRT("delete", idA)
		w.mustRT("delete", "--force", idB)
		for _, id := range []string{idA, idB} {
			w.assertGone(id)
		}
		if refusedNot := !refused(w.outside, "http://["+hostAddr6+"]:8080/index.html"); refusedNot {
			t.Errorf("the published port still answers over IPv6 after delete")
		}
	})
}

// TestNetworkForwardDropNoDockerUser: a FORWARD chain that drops by policy
// without a DOCKER-USER chain (iptables -P FORWARD DROP): rt-net puts its
// accept rules at the top of FORWARD itself, once per bridge.
func TestNetworkForwardDropNoDockerUser(t *testing.T) {
	w := newNetWorld(t)
	srv := w.outsideServer()
	rules := "table ip filter {\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}\n"
	f := filepath.Join(t.TempDir(), "drop.nft")
	os.WriteFile(f, []byte(rules), 0o644)
	if out, err := in(w.host, 10*time.Second, "nft", "-f", f); err != nil {
		t.Fatalf("nft -f: %v %s", err, out)
	}
	b := w.bundle([]string{"sleep", "300"})
	_, pid := w.start(b)
	if out, err := fetch(fmt.Sprintf("/proc/%d/ns/net", pid), srv+"/cgi-bin/ip"); err != nil || strings.TrimSpace(out) != hostAddr {
		t.Fatalf("container to outside with FORWARD policy drop: %v %q\n%s", err, out, w.ruleset())
	}
	w.start(b) // a second container: the rules are not added twice
	rs := w.ruleset()
	i := strings.Index(rs, "chain FORWARD")
	if i < 0 || strings.Count(rs[i:], `comment "rt-net `+w.bridge+`"`) != 2 || !strings.Contains(rs[i:], `oifname "`+w.bridge+`" counter`) {
		t.Fatalf("want the two accept rules for %s once in FORWARD:\n%s", w.bridge, rs)
	}
}

// TestNetworkDockerHostIPv6: the same as TestNetworkDockerHost for
// ip6tables (Docker with IPv6): a dual-stack container still reaches the
// outside over IPv6 through an ip6 filter FORWARD chain that drops by policy.
func TestNetworkDockerHostIPv6(t *testing.T) {
	w := newNetWorld(t)
	srv6 := w.outsideServerOf(true)
	rules := "table ip6 filter {\n\tchain DOCKER-USER {\n\t}\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tcounter jump DOCKER-USER\n\t}\n}\n"
	f := filepath.Join(t.TempDir(), "docker6.nft")
	os.WriteFile(f, []byte(rules), 0o644)
	if out, err := in(w.host, 10*time.Second, "nft", "-f", f); err != nil {
		t.Fatalf("nft -f: %v %s", err, out)
	}
	b := w.bundle([]string{"sleep", "300"}, "--subnet6", w.subnet6)
	_, pid := w.start(b)
	out, err := fetch(fmt.Sprintf("/proc/%d/ns/net", pid), srv6+"/cgi-bin/ip")
	if err != nil || strings.Trim(strings.TrimSpace(out), "[]") != hostAddr6 {
		t.Fatalf("container to outside over IPv6 with ip6 FORWARD policy drop: %v %q\n%s", err, out, w.ruleset())
	}
	rs := w.ruleset()
	i := strings.Index(rs, "table ip6 filter")
	if i < 0 || !strings.Contains(rs[i:], `iifname "`+w.bridge+`" counter`) || !strings.Contains(rs[i:], `comment "rt-net `+w.bridge+`"`) {
		t.Fatalf("no accept rules for %s in ip6 filter DOCKER-USER:\n%s", w.bridge, rs)
	}
	// Without them the container would not get out (else this proves nothing).
	if out, err := in(w.host, 5*time.Second, "nft", "flush", "chain", "ip6", "filter", "DOCKER-USER"); err != nil {
		t.Fatalf("nft flush chain: %v %s", err, out)
	}
	if !refused(fmt.Sprintf("/proc/%d/ns/net", pid), srv6+"/cgi-bin/ip") {
		t.Fatalf("the container got out over IPv6 without the accept rules: the check above proves nothing")
	}
}

// TestNetworkPinnedNetns: a container's network namespace kept alive after
// the container is gone (a bind mount of it, as an engine may hold): the
// kernel does not remove the veth then, so the tear-down, after waiting a
// little for it to go, deletes it itself; nothing is left after delete.
func TestNetworkPinnedNetns(t *testing.T) {
	w := newNetWorld(t)
	b := w.bundle([]string{"sleep", "300"})
	id, pid := w.start(b)
	pin := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(pin, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "--bind", fmt.Sprintf("/proc/%d/ns/net", pid), pin)
	t.Cleanup(func() { exec.Command("umount", "-l", pin).Run() })
	w.mustRT("kill", id, "KILL")
	if !waitGone(pid, 10*time.Second) {
		t.Fatalf("init %d survived SIGKILL", pid)
	}
	w.mustRT("delete", id)
	w.assertGone(id)
	// The namespace is still there, now without the container's eth0.
	out, err := in(pin, 5*time.Second, "ip", "-o", "link", "show")
	if err != nil || strings.Contains(out, "eth0") {
		t.Fatalf("links in the pinned namespace after delete: %v %q, want no eth0", err, out)
	}
}
