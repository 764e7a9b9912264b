package system

import (
	"fmt"
	"os"
	"strconv"
)

// SetOOMScoreAdj writes v (-1000..1000) to /proc/<pid>/oom_score_adj; pid
// 0 means the calling process. Lowering the value needs CAP_SYS_RESOURCE.
func SetOOMScoreAdj(pid int, v int) error {
	if v < -1000 || v > 1000 {
		return fmt.Errorf("process.oomScoreAdj: invalid value %d (want -1000..1000)", v)
	}
	p := "self"
	if pid > 0 {
		p = strconv.Itoa(pid)
	}
	path := "/proc/" + p + "/oom_score_adj"
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj: %w", err)
	}
	_, werr := f.WriteString(strconv.Itoa(v))
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("process.oomScoreAdj: write %d to %s: %w", v, path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("process.oomScoreAdj: close %s: %w", path, cerr)
	}
	return nil
}
