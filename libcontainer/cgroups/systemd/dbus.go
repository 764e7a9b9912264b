package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	godbus "github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"
)

// Bounds of every D-Bus wait (runc waits 30 s for a job as well).
var (
	// callTimeout bounds one method call, and connecting.
	callTimeout = 10 * time.Second
	// jobTimeout bounds the wait for a start/stop job's result.
	jobTimeout = 30 * time.Second
	// retries is how often a call is retried after the connection
	// closed under it (systemd re-executing, the bus restarting).
	retries = 5
)

const (
	sdDest    = "org.freedesktop.systemd1"
	sdPath    = godbus.ObjectPath("/org/freedesktop/systemd1")
	sdManager = "org.freedesktop.systemd1.Manager"
)

// property is a unit property as StartTransientUnit and
// SetUnitProperties take them: D-Bus (sv).
type property struct {
	Name  string
	Value godbus.Variant
}

// conn is one lazily opened connection to the system manager (root) or
// the user's manager (rootless), reopened when systemd drops it. One
// connection carries the calls and the JobRemoved signals.
type conn struct {
	user bool
	mu   sync.Mutex
	c    *godbus.Conn

	// results of finished jobs (JobRemoved), by job path, filled by a
	// goroutine that drains the connection's signals (on the private
	// socket systemd sends every peer all of its signals); done is
	// closed and replaced whenever one arrives.
	jobsMu sync.Mutex
	jobs   map[godbus.ObjectPath]string
	done   chan struct{}
}

// The process's connections, shared by its managers (as runc's): `rt
// run` creates, waits and deletes over one connection.
var (
	connMu               sync.Mutex
	systemConn, userConn *conn
)

func connFor(user bool) *conn {
	connMu.Lock()
	defer connMu.Unlock()
	p := &systemConn
	if user {
		p = &userConn
	}
	if *p == nil {
		*p = &conn{user: user}
	}
	return *p
}

// privateConn connects to a manager's private socket: no bus daemon,
// EXTERNAL authentication, no Hello (what systemctl does as root).
// systemd sends its signals to every direct connection.
func privateConn(path string) (*godbus.Conn, error) {
	c, err := godbus.Dial("unix:path=" + path)
	if err != nil {
		return nil, err
	}
	if err := c.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// busConn connects through a bus daemon and asks it for the manager's
// JobRemoved signals.
func busConn(connect func(...godbus.ConnOption) (*godbus.Conn, error)) (*godbus.Conn, error) {
	c, err := connect()
	if err != nil {
		return nil, err
	}
	if err := c.AddMatchSignal(godbus.WithMatchInterface(sdManager), godbus.WithMatchMember("JobRemoved")); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (d *conn) dial() (*godbus.Conn, error) {
	if d.user {
		// the user manager's private socket, else the user's bus
		if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
			c, err := privateConn(rd + "/systemd/private")
			if err == nil {
				return c, nil
			}
			logrus.Debugf("systemd --user: private socket: %v; trying the session bus", err)
		}
		return busConn(godbus.ConnectSessionBus)
	}
	// root: systemd's private socket (one hop less than the system bus,
	// and it works while dbus-daemon is down or restarting), else the
	// system bus
	c, err := privateConn("/run/systemd/private")
	if err == nil {
		return c, nil
	}
	logrus.Debugf("systemd: private socket: %v; trying the system bus", err)
	return busConn(godbus.ConnectSystemBus)
}

func (d *conn) get() (*godbus.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		return d.c, nil
	}
	type res struct {
		c   *godbus.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := d.dial()
		ch <- res{c, err}
	}()
	var r res
	select {
	case r = <-ch:
	case <-time.After(callTimeout):
		r.err = fmt.Errorf("no answer within %s", callTimeout)
	}
	if r.err != nil {
		which := "system"
		if d.user {
			which = "user (systemd --user: $XDG_RUNTIME_DIR/systemd/private or the session bus)"
		}
		return nil, fmt.Errorf("connect to the %s systemd over D-Bus: %w", which, r.err)
	}
	d.c = r.c
	sigs := make(chan *godbus.Signal, 64)
	d.c.Signal(sigs)
	go d.drain(sigs)
	return d.c, nil
}

// drain keeps the results of the jobs that finish (bounded: a wait for
// a job starts right after systemd queued it).
func (d *conn) drain(sigs <-chan *godbus.Signal) {
	for s := range sigs {
		if s.Name != sdManager+".JobRemoved" || len(s.Body) < 4 {
			continue
		}
		job, _ := s.Body[1].(godbus.ObjectPath)
		res, _ := s.Body[3].(string)
		d.jobsMu.Lock()
		if d.jobs == nil || len(d.jobs) > 1024 {
			d.jobs = map[godbus.ObjectPath]string{}
		}
		d.jobs[job] = res
		if d.done != nil {
			close(d.done)
		}
		d.done = make(chan struct{})
		d.jobsMu.Unlock()
	}
}

func (d *conn) reset(c *godbus.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == c {
		c.Close()
		d.c = nil
	}
}

// isClosed: the connection went away under a call (systemd or the bus
// restarting); the call is retried on a new connection.
func isClosed(err error) bool {
	return errors.Is(err, godbus.ErrClosed) || (err != nil && strings.Contains(err.Error(), "connection closed"))
}

// call calls a method of systemd's manager with a bounded context, on a
// new connection when the old one was closed, a bounded number of
// times; the reply is stored into ret.
func (d *conn) call(method string, ret []any, args ...any) error {
	var err error
	for i := 0; i <= retries; i++ {
		var c *godbus.Conn
		if c, err = d.get(); err != nil {
			if i < retries {
				time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
				continue
			}
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		err = c.Object(sdDest, sdPath).CallWithContext(ctx, method, 0, args...).Store(ret...)
		cancel()
		if !isClosed(err) {
			return err
		}
		logrus.Debugf("systemd: D-Bus connection closed, retrying: %v", err)
		d.reset(c)
	}
	return err
}

func isDBusError(err error, name string) bool {
	var de godbus.Error
	return errors.As(err, &de) && de.Name == name
}

func isUnitExists(err error) bool {
	return isDBusError(err, "org.freedesktop.systemd1.UnitExists")
}

func isNoSuchUnit(err error) bool {
	return isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit") ||
		isDBusError(err, "org.freedesktop.systemd1.LoadFailed")
}

// waitJob waits (bounded) for the JobRemoved signal of job and returns
// its result ("done", "failed", "canceled", ...).
func (d *conn) waitJob(job godbus.ObjectPath) (string, error) {
	t := time.NewTimer(jobTimeout)
	defer t.Stop()
	for {
		d.jobsMu.Lock()
		res, ok := d.jobs[job]
		if ok {
			delete(d.jobs, job)
		}
		if d.done == nil {
			d.done = make(chan struct{})
		}
		done := d.done
		d.jobsMu.Unlock()
		if ok {
			return res, nil
		}
		select {
		case <-done:
		case <-t.C:
			return "", fmt.Errorf("job %s: no result from systemd within %s", job, jobTimeout)
		}
	}
}

// startUnit starts the transient unit and waits (bounded) for its job.
// A unit of the same name may be a failed leftover: it is reset and
// the start retried once (as runc). A job that does not end "done"
// leaves nothing behind: the unit is stopped and reset.
func (d *conn) startUnit(name string, props []property, ignoreExists bool) error {
	for attempt := 0; ; attempt++ {
		var job godbus.ObjectPath
		err := d.call(sdManager+".StartTransientUnit", []any{&job}, name, "replace", props, []struct {
			Name  string
			Props []property
		}{})
		if err != nil {
			if isUnitExists(err) {
				if ignoreExists {
					return nil
				}
				if attempt == 0 {
					if err := d.resetFailed(name); err != nil {
						logrus.Debugf("systemd: reset-failed %s: %v", name, err)
					}
					continue
				}
				return fmt.Errorf("start unit %s: a unit of that name already exists: %w", name, err)
			}
			return fmt.Errorf("start unit %s: %w", name, err)
		}
		res, err := d.waitJob(job)
		if err == nil && res != "done" {
			err = fmt.Errorf("systemd's job ended %q", res)
		}
		if err != nil {
			err = fmt.Errorf("start unit %s: %w", name, err)
			if serr := d.stopUnit(name); serr != nil {
				return errors.Join(err, fmt.Errorf("stop unit %s again: %w", name, serr))
			}
			return err
		}
		return nil
	}
}

// stopUnit stops the unit, waits (bounded) for the job and resets a
// failed state, so that systemd forgets the unit. A unit that is not
// loaded is not an error.
func (d *conn) stopUnit(name string) error {
	var job godbus.ObjectPath
	err := d.call(sdManager+".StopUnit", []any{&job}, name, "replace")
	if err == nil {
		res, err := d.waitJob(job)
		if err != nil {
			return fmt.Errorf("stop unit %s: %w", name, err)
		}
		if res != "done" {
			logrus.Debugf("systemd: stop %s: job ended %q", name, res)
		}
	} else if !isNoSuchUnit(err) {
		return fmt.Errorf("stop unit %s: %w", name, err)
	}
	if err := d.resetFailed(name); err != nil && !isNoSuchUnit(err) {
		logrus.Debugf("systemd: reset-failed %s: %v", name, err)
	}
	return nil
}

func (d *conn) resetFailed(name string) error {
	return d.call(sdManager+".ResetFailedUnit", nil, name)
}

// setProperties sets runtime properties of the unit (nothing under /etc).
func (d *conn) setProperties(name string, props []property) error {
	if len(props) == 0 {
		return nil
	}
	return d.call(sdManager+".SetUnitProperties", nil, name, true, props)
}

// managerProperty reads a string property of systemd's manager
// ("Version", "ControlGroup").
func (d *conn) managerProperty(name string) (string, error) {
	var v godbus.Variant
	if err := d.call("org.freedesktop.DBus.Properties.Get", []any{&v}, sdManager, name); err != nil {
		return "", fmt.Errorf("systemd manager property %s: %w", name, err)
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("systemd manager property %s: not a string: %s", name, v)
	}
	return s, nil
}

// version is systemd's version number ("252.39-1~deb12u1" -> 252); -1
// when unknown.
func (d *conn) version() int {
	v, err := d.managerProperty("Version")
	if err != nil {
		return -1
	}
	return versionAtoi(v)
}

func versionAtoi(s string) int {
	s = strings.TrimLeft(s, `"v`)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return -1
	}
	return n
}
