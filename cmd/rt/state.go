package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli"

	"github.com/rt-runtime/rt/libcontainer"
)

// containerState is what `rt state` prints: the OCI state plus runc's
// extra fields (rootfs, created, owner).
type containerState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func stateOf(ctr *libcontainer.Container) containerState {
	st := ctr.OCIState()
	return containerState{
		OCIVersion:  st.Version,
		ID:          st.ID,
		Pid:         st.Pid,
		Status:      string(st.Status),
		Bundle:      st.Bundle,
		Rootfs:      ctr.Rootfs(),
		Created:     ctr.Created(),
		Annotations: st.Annotations,
		Owner:       ctr.Owner(),
	}
}

var stateCommand = cli.Command{
	Name:  "state",
	Usage: "output the state of a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container.`,
	Description: `The state command outputs current state information for the
instance of a container.`,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ctr, err := getContainer(c)
		if err != nil {
			return err
		}
		data, err := json.MarshalIndent(stateOf(ctr), "", "  ")
		if err != nil {
			return err
		}
		if _, err := os.Stdout.Write(append(data, '\n')); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
		return nil
	},
}
