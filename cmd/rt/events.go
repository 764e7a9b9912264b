package main

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
	"github.com/rt-runtime/rt/libcontainer/events"
)

// stopPoll is how often `rt events` checks whether the container stopped.
const stopPoll = 200 * time.Millisecond

var eventsCommand = cli.Command{
	Name:  "events",
	Usage: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
	Description: `The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
	Flags: []cli.Flag{
		cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		interval := c.Duration("interval")
		if interval <= 0 {
			return errors.New("duration interval must be greater than 0")
		}
		if err := ctr.Check(libcontainer.OpEvents); err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		if c.Bool("stats") {
			s, err := ctr.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(&events.Event{Type: events.TypeStats, ID: ctr.ID(), Data: s})
		}
		return streamEvents(ctr, interval, enc)
	},
}

// streamEvents prints a stats event every interval and an oom event for
// every OOM, until the container stops or its cgroup is removed.
func streamEvents(ctr *libcontainer.Container, interval time.Duration, enc *json.Encoder) error {
	oom, err := ctr.NotifyOOM()
	if err != nil {
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	poll := time.NewTicker(stopPoll)
	defer poll.Stop()
	emit := func(e *events.Event) {
		if err := enc.Encode(e); err != nil {
			logrus.Error(err)
		}
	}
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				return nil // the cgroup is gone
			}
			emit(&events.Event{Type: events.TypeOOM, ID: ctr.ID()})
		case <-tick.C:
			s, err := ctr.Stats()
			if err != nil {
				logrus.Error(err)
				continue
			}
			emit(&events.Event{Type: events.TypeStats, ID: ctr.ID(), Data: s})
		case <-poll.C:
			if ctr.Status() == libcontainer.Stopped {
				drainOOM(ctr.ID(), oom, emit)
				return nil
			}
		}
	}
}

// drainOOM prints the OOM events still on their way when the container
// stopped (an OOM kill of the init is the usual reason it stopped).
func drainOOM(id string, oom <-chan struct{}, emit func(*events.Event)) {
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				return
			}
			emit(&events.Event{Type: events.TypeOOM, ID: id})
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}
