package libcontainer

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/rt-runtime/rt/libcontainer/jsonwrite"
)

// encodeState is json.Marshal(s) without encoding/json's reflection: the
// first Marshal of a State builds its encoders (~0.1 ms), and create's
// first state.json is written on the way to starting the init. Same bytes
// as json.Marshal (FuzzEncodeState checks it); a time that Marshal would
// refuse goes to json.Marshal for its error.
func encodeState(s *State) ([]byte, error) {
	if y := s.Created.Year(); y < 0 || y > 9999 {
		return json.Marshal(s)
	}
	b := make([]byte, 0, 640)
	b = append(b, `{"id":`...)
	b = jsonwrite.String(b, s.ID)
	b = append(b, `,"init_pid":`...)
	b = strconv.AppendInt(b, int64(s.InitPid), 10)
	b = append(b, `,"init_start":`...)
	b = strconv.AppendUint(b, s.InitStart, 10)
	if s.Creating {
		b = append(b, `,"creating":true`...)
	}
	b = append(b, `,"created":"`...)
	b = s.Created.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","owner":`...)
	b = jsonwrite.String(b, s.Owner)
	if len(s.CgroupPaths) > 0 {
		b = append(b, `,"cgroup_paths":`...)
		b = jsonwrite.Map(b, s.CgroupPaths, jsonwrite.StringOf[string])
	}
	if s.SystemdCgroup != "" {
		b = append(b, `,"systemd_cgroup":`...)
		b = jsonwrite.String(b, s.SystemdCgroup)
	}
	if g := s.IntelRdt; g != nil {
		b = append(b, `,"intel_rdt":{"path":`...)
		b = jsonwrite.String(b, g.Path)
		if g.Created {
			b = append(b, `,"created":true`...)
		}
		if g.MonPath != "" {
			b = append(b, `,"mon_path":`...)
			b = jsonwrite.String(b, g.MonPath)
		}
		b = append(b, '}')
	}
	if s.Bundle != "" {
		b = append(b, `,"bundle":`...)
		b = jsonwrite.String(b, s.Bundle)
	}
	if s.Rootfs != "" {
		b = append(b, `,"rootfs":`...)
		b = jsonwrite.String(b, s.Rootfs)
	}
	if len(s.Annotations) > 0 {
		b = append(b, `,"annotations":`...)
		b = jsonwrite.Map(b, s.Annotations, jsonwrite.StringOf[string])
	}
	return append(b, '}'), nil
}
