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

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"
)

// Bounds of every D-Bus wait (runc waits 30 s for a job as well).
var (
	// callTimeout bounds one method call (connect included).
	callTimeout = 10 * time.Second
	// jobTimeout bounds the wait for a start/stop job's result.
	jobTimeout = 30 * time.Second
	// retries is how often a call is retried after the connection
	// closed under it (systemd re-executing, the bus restarting).
	retries = 5
)

// conn is a lazily opened connection to the system manager (root) or
// the user's manager (rootless), reopened when systemd drops it.
type conn struct {
	user bool
	mu   sync.Mutex
	c    *sddbus.Conn
}

func (d *conn) get() (*sddbus.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		return d.c, nil
	}
	// The context given to a go-systemd constructor lives as long as
	// the connection (godbus closes the connection when it is done), so
	// connecting is bounded here instead.
	type res struct {
		c   *sddbus.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		ctx := context.Background()
		var (
			c   *sddbus.Conn
			err error
		)
		if d.user {
			// the user's bus, else the user manager's private socket
			// (what systemctl --user uses when there is no user bus)
			if c, err = sddbus.NewUserConnectionContext(ctx); err != nil {
				if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
					if c2, err2 := sddbus.NewConnection(func() (*godbus.Conn, error) {
						return userPrivate(rd + "/systemd/private")
					}); err2 == nil {
						c, err = c2, nil
					}
				}
			}
		} else {
			// root talks to systemd directly on its private socket (as
			// systemctl does): no bus daemon in between, and it works
			// while dbus-daemon is down or restarting; the system bus is
			// the fallback.
			if c, err = sddbus.NewSystemdConnectionContext(ctx); err != nil {
				logrus.Debugf("systemd: private socket: %v; trying the system bus", err)
				c, err = sddbus.NewSystemConnectionContext(ctx)
			}
		}
		ch <- res{c, err}
	}()
	var c *sddbus.Conn
	var err error
	select {
	case r := <-ch:
		c, err = r.c, r.err
	case <-time.After(callTimeout):
		err = fmt.Errorf("no answer within %s", callTimeout)
	}
	if err != nil {
		which := "system"
		if d.user {
			which = "user (systemd --user, $XDG_RUNTIME_DIR/bus)"
		}
		return nil, fmt.Errorf("connect to the %s systemd over D-Bus: %w", which, err)
	}
	d.c = c
	return c, nil
}

// userPrivate connects to a user manager's private socket (no bus
// daemon: EXTERNAL authentication, no Hello).
func userPrivate(path string) (*godbus.Conn, error) {
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

func (d *conn) reset(c *sddbus.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == c {
		c.Close()
		d.c = nil
	}
}

// Close closes the connection, if one is open.
func (d *conn) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.Close()
		d.c = nil
	}
}

// isClosed: the connection went away under a call (systemd or the bus
// restarting); the call is retried on a new connection.
func isClosed(err error) bool {
	return errors.Is(err, godbus.ErrClosed) || (err != nil && strings.Contains(err.Error(), "connection closed"))
}

// do runs op with a bounded context, on a new connection when the old
// one was closed, a bounded number of times.
func (d *conn) do(op func(ctx context.Context, c *sddbus.Conn) error) error {
	var err error
	for i := 0; i <= retries; i++ {
		var c *sddbus.Conn
		if c, err = d.get(); err != nil {
			if i < retries {
				time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
				continue
			}
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		err = op(ctx, c)
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

// errUnitExists: StartTransientUnit found a unit of that name loaded.
func isUnitExists(err error) bool {
	return isDBusError(err, "org.freedesktop.systemd1.UnitExists")
}

func isNoSuchUnit(err error) bool {
	return isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit") ||
		isDBusError(err, "org.freedesktop.systemd1.LoadFailed")
}

// startUnit starts the transient unit and waits (bounded) for its job.
// A unit of the same name may be a failed leftover: it is reset and
// the start retried once (as runc). A job that does not end "done"
// leaves nothing behind: the unit is stopped and reset.
func (d *conn) startUnit(name string, props []sddbus.Property, ignoreExists bool) error {
	for attempt := 0; ; attempt++ {
		ch := make(chan string, 1)
		err := d.do(func(ctx context.Context, c *sddbus.Conn) error {
			_, err := c.StartTransientUnitContext(ctx, name, "replace", props, ch)
			return err
		})
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
		t := time.NewTimer(jobTimeout)
		defer t.Stop()
		select {
		case s := <-ch:
			if s != "done" {
				d.stopUnit(name)
				return fmt.Errorf("start unit %s: systemd's job ended %q", name, s)
			}
			return nil
		case <-t.C:
			d.stopUnit(name)
			return fmt.Errorf("start unit %s: no result from systemd within %s", name, jobTimeout)
		}
	}
}

// stopUnit stops the unit, waits (bounded) for the job and resets a
// failed state, so that systemd forgets the unit. A unit that is not
// loaded is not an error.
func (d *conn) stopUnit(name string) error {
	ch := make(chan string, 1)
	err := d.do(func(ctx context.Context, c *sddbus.Conn) error {
		_, err := c.StopUnitContext(ctx, name, "replace", ch)
		return err
	})
	if err == nil {
		t := time.NewTimer(jobTimeout)
		defer t.Stop()
		select {
		case s := <-ch:
			if s != "done" {
				logrus.Debugf("systemd: stop %s: job ended %q", name, s)
			}
		case <-t.C:
			return fmt.Errorf("stop unit %s: no result from systemd within %s", name, jobTimeout)
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
	return d.do(func(ctx context.Context, c *sddbus.Conn) error {
		return c.ResetFailedUnitContext(ctx, name)
	})
}

func (d *conn) setProperties(name string, props []sddbus.Property) error {
	if len(props) == 0 {
		return nil
	}
	return d.do(func(ctx context.Context, c *sddbus.Conn) error {
		return c.SetUnitPropertiesContext(ctx, name, true, props...)
	})
}

// managerProperty reads a property of org.freedesktop.systemd1.Manager
// ("Version", "ControlGroup"), unquoted.
func (d *conn) managerProperty(name string) (string, error) {
	var v string
	err := d.do(func(ctx context.Context, c *sddbus.Conn) error {
		// GetManagerProperty takes no context: bound it here (the
		// goroutine ends when the connection is closed or answers)
		type res struct {
			v   string
			err error
		}
		ch := make(chan res, 1)
		go func() {
			v, err := c.GetManagerProperty(name)
			ch <- res{v, err}
		}()
		select {
		case r := <-ch:
			v = r.v
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return "", fmt.Errorf("systemd manager property %s: %w", name, err)
	}
	if u, err := strconv.Unquote(v); err == nil {
		v = u
	}
	return v, nil
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
