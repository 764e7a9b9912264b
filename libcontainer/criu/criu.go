// Package criu drives criu(8) over its RPC interface ("criu swrk"): it
// finds the binary through PATH, starts it with the files a request needs,
// sends one request, answers its notifications and reports failures in one
// line (what `criu check` says when criu itself is broken, the log's
// errors otherwise). It knows nothing about containers.
package criu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/nsenter"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no criu binary in PATH.
	ErrNotFound = errors.New("criu not found in PATH")
	// ErrMissingFeatures: criu runs, but lacks what the request needs
	// (the message names the features).
	ErrMissingFeatures = errors.New("criu is missing features")
	// ErrBroken: criu is there but `criu check` fails on this host.
	ErrBroken = errors.New("criu does not work on this host")
)

// Timeout bounds one criu request (dump, restore, feature check): a
// wedged criu is killed rather than waited on for ever.
var Timeout = 10 * time.Minute

// Find returns the path of the criu binary in PATH.
func Find() (string, error) {
	p, err := exec.LookPath("criu")
	if err != nil {
		return "", ErrNotFound
	}
	return p, nil
}

// Check runs `criu check` (bounded) and returns nil when it says the
// kernel has what criu needs, or an ErrBroken error quoting its first
// error line.
func Check() error {
	bin, err := Find()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = nsenter.WithChildTimerSlack(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: criu check: %s", ErrBroken, firstError(out.Bytes(), err))
}

// firstError picks the line of criu output that explains a failure.
func firstError(out []byte, err error) string {
	var last string
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		l := strings.TrimSpace(s.Text())
		if l == "" || strings.Contains(l, "RLIMIT_NOFILE") {
			continue
		}
		if strings.HasPrefix(l, "Error") {
			return l
		}
		last = l
	}
	if last != "" {
		return last
	}
	return err.Error()
}

// Request is one RPC exchange with a criu process.
type Request struct {
	// Req is the request (type and options).
	Req *rpc.CriuReq
	// Stdin, Stdout, Stderr become criu's stdio (restore: the restored
	// process's inherited pipes are keyed to these fds). Nil: /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become criu's fds 4, 5, ... (fd 3 is the RPC socket).
	ExtraFiles []*os.File
	// Started, if set, runs once criu's pid is known, before the request
	// is sent (restore: criu joins the container's cgroup).
	Started func(pid int) error
	// Notify answers criu's notifications ("post-dump", "setup-namespaces",
	// "post-restore", "orphan-pts-master", "status-ready", ...). fds are
	// the descriptors passed along with it (owned by the callee).
	Notify func(script string, pid int, fds []int) error
	// LogDir and LogFile name criu's log, quoted in errors.
	LogDir, LogFile string
}

// FirstExtraFd is criu's fd number of Request.ExtraFiles[0].
const FirstExtraFd = 4

// Run starts `criu swrk`, sends r.Req and returns criu's final answer.
// The criu process has exited when Run returns.
func Run(r *Request) (*rpc.CriuResp, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_LOCAL, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "criu-client")
	server := os.NewFile(uintptr(fds[1]), "criu-server")
	conn, err := net.FileConn(client)
	client.Close()
	if err != nil {
		server.Close()
		return nil, fmt.Errorf("criu socket: %w", err)
	}
	uc := conn.(*net.UnixConn)
	defer uc.Close()

	cmd := exec.Command(bin, "swrk", "3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.Stdin, r.Stdout, r.Stderr
	cmd.ExtraFiles = append([]*os.File{server}, r.ExtraFiles...)
	// criu must outlive nothing of ours: if rt dies, so does it.
	cmd.SysProcAttr = &unix.SysProcAttr{Pdeathsig: unix.SIGKILL}
	started := time.Now()
	if err := nsenter.WithChildTimerSlack(cmd.Start); err != nil {
		server.Close()
		return nil, fmt.Errorf("start criu: %w", err)
	}
	// criu's own time, start to exit (make bench compares it with rt's).
	defer func() {
		logrus.Debugf("criu %s: %d us", strings.ToLower(r.Req.GetType().String()), time.Since(started).Microseconds())
	}()
	server.Close()
	// cmd.Wait would also wait for the stdio copy goroutines (none: all
	// are *os.File); wait for the process alone.
	proc := cmd.Process
	exited := false
	defer func() {
		if !exited {
			proc.Kill()
			proc.Wait()
		}
	}()
	timer := time.AfterFunc(Timeout, func() { proc.Kill() })
	defer timer.Stop()

	if r.Started != nil {
		if err := r.Started(proc.Pid); err != nil {
			return nil, err
		}
	}
	req := r.Req
	data, err := req.MarshalVT()
	if err != nil {
		return nil, fmt.Errorf("encode criu request: %w", err)
	}
	if _, err := uc.Write(data); err != nil {
		return nil, r.failure(proc, &exited, fmt.Errorf("send criu request: %w", err))
	}
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(4*16))
	var resp *rpc.CriuResp
	for {
		n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
		if req.Opts != nil && req.Opts.StatusFd != nil {
			// criu has its own copy of the status fd by now: close ours,
			// or whoever waits on it waits for ever.
			unix.Close(int(*req.Opts.StatusFd))
			req.Opts.StatusFd = nil
		}
		if err != nil || n == 0 {
			return nil, r.failure(proc, &exited, fmt.Errorf("criu exited before answering"))
		}
		resp = &rpc.CriuResp{}
		if err := resp.UnmarshalVT(buf[:n]); err != nil {
			return nil, fmt.Errorf("decode criu answer: %w", err)
		}
		var passed []int
		if oobn > 0 {
			passed = parseRights(oob[:oobn])
		}
		if !resp.GetSuccess() {
			closeFds(passed)
			msg := resp.GetCrErrmsg()
			if strings.Contains(msg, "RLIMIT_NOFILE") {
				// criu's first error, harmless without CAP_SYS_RESOURCE:
				// the log names the real one.
				msg = ""
			}
			if msg == "" {
				msg = fmt.Sprintf("errno %d", resp.GetCrErrno())
			}
			return resp, r.failure(proc, &exited, fmt.Errorf("criu %s failed: %s", strings.ToLower(resp.GetType().String()), msg))
		}
		if resp.GetType() != rpc.CriuReqType_NOTIFY {
			closeFds(passed)
			break
		}
		script := resp.GetNotify().GetScript()
		if r.Notify != nil {
			if err := r.Notify(script, int(resp.GetNotify().GetPid()), passed); err != nil {
				return nil, fmt.Errorf("criu notification %q: %w", script, err)
			}
		} else {
			closeFds(passed)
		}
		t := rpc.CriuReqType_NOTIFY
		ok := true
		ack := &rpc.CriuReq{Type: &t, NotifySuccess: &ok}
		data, err := ack.MarshalVT()
		if err != nil {
			return nil, err
		}
		if _, err := uc.Write(data); err != nil {
			return nil, fmt.Errorf("answer criu notification %q: %w", script, err)
		}
	}
	uc.CloseWrite()
	st, err := proc.Wait()
	exited = true
	if err != nil {
		return nil, fmt.Errorf("wait for criu: %w", err)
	}
	// A pre-dump's criu waits for the next request, which never comes:
	// its exit status after we hang up does not matter.
	if !st.Success() && req.GetType() != rpc.CriuReqType_PRE_DUMP {
		return nil, r.failure(proc, &exited, fmt.Errorf("criu failed: %s", st))
	}
	return resp, nil
}

// failure makes err the one line a user needs: when criu cannot work on
// this host at all, what `criu check` says; else err with the first error
// of criu's log and where the log is.
func (r *Request) failure(proc *os.Process, exited *bool, err error) error {
	if !*exited {
		proc.Kill()
		proc.Wait()
		*exited = true
	}
	if cerr := Check(); cerr != nil {
		return cerr
	}
	if r.LogFile == "" {
		return err
	}
	path := filepath.Join(r.LogDir, r.LogFile)
	if line := LogError(path); line != "" {
		return fmt.Errorf("%w: %s (log: %s)", err, line, path)
	}
	return fmt.Errorf("%w (log: %s)", err, path)
}

// LogError returns the first "Error" line of a criu log, without its
// timestamp, or "".
func LogError(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		l := s.Text()
		i := strings.Index(l, "Error (")
		if i < 0 || strings.Contains(l, "RLIMIT_NOFILE") {
			continue
		}
		return strings.TrimSpace(l[i:])
	}
	return ""
}

// CheckFeatures asks criu whether it has the features set in want and
// returns ErrMissingFeatures naming those it lacks.
func CheckFeatures(want *rpc.CriuFeatures) error {
	t := rpc.CriuReqType_FEATURE_CHECK
	resp, err := Run(&Request{Req: &rpc.CriuReq{Type: &t, Features: want}})
	if err != nil {
		return fmt.Errorf("criu feature check: %w", err)
	}
	got := resp.GetFeatures()
	var missing []string
	if want.GetMemTrack() && !got.GetMemTrack() {
		missing = append(missing, "memory tracking (soft-dirty, needed by --pre-dump and --parent-path)")
	}
	if want.GetLazyPages() && !got.GetLazyPages() {
		missing = append(missing, "lazy pages (userfaultfd)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingFeatures, strings.Join(missing, ", "))
	}
	return nil
}

func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if f, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, f...)
		}
	}
	return fds
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Ptr returns a pointer to v (for the RPC's optional fields).
func Ptr[T any](v T) *T { return &v }
