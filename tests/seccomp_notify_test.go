package tests

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// seccompAgent is a minimal seccomp notify listener: it receives the
// container process state and the notify fd, then answers every notified
// syscall with a fake success (return value 0, nothing done).
type seccompAgent struct {
	path  string
	state chan specs.ContainerProcessState
	calls chan string
	errc  chan error
}

func newSeccompAgent(t *testing.T) *seccompAgent {
	t.Helper()
	a := &seccompAgent{path: filepath.Join(t.TempDir(), "agent.sock"),
		state: make(chan specs.ContainerProcessState, 4), calls: make(chan string, 64), errc: make(chan error, 4)}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go a.serve(conn)
		}
	}()
	return a
}

func (a *seccompAgent) serve(conn *net.UnixConn) {
	defer conn.Close()
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		a.errc <- err
		return
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		a.errc <- err
		return
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	if len(msgs) != 1 {
		a.errc <- errString("no fd with the container process state")
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		a.errc <- errString("expected one fd")
		return
	}
	a.state <- st
	fd := libseccomp.ScmpFd(fds[0])
	defer unix.Close(fds[0])
	for {
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			return // the filter's last user exited
		}
		name, _ := req.Data.Syscall.GetName()
		a.calls <- name
		libseccomp.NotifRespond(fd, &libseccomp.ScmpNotifResp{ID: req.ID, Error: 0, Val: 0, Flags: 0})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestSeccompNotify(t *testing.T) {
	agent := newSeccompAgent(t)
	b := newBundle(t, withArgs("sh", "-c", "mkdir /faked && echo mkdir-ok; [ -d /faked ] && echo exists || echo absent"),
		func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction:    specs.ActAllow,
				ListenerPath:     agent.path,
				ListenerMetadata: "rt-test",
				Architectures:    []specs.Arch{specs.ArchX86_64},
				Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
			}
		})
	out := mustRunIn(t, b)
	if strings.Join(strings.Fields(out), " ") != "mkdir-ok absent" {
		t.Errorf("container output %q: want mkdir faked by the agent (ok, but no directory)", out)
	}
	select {
	case st := <-agent.state:
		if st.Metadata != "rt-test" || len(st.Fds) != 1 || st.Fds[0] != "seccompFd" || st.Pid <= 0 || st.State.ID == "" {
			t.Errorf("container process state sent to the listener: %+v", st)
		}
	case err := <-agent.errc:
		t.Fatal(err)
	default:
		t.Fatal("the listener never got the notify fd")
	}
	select {
	case name := <-agent.calls:
		if name != "mkdir" && name != "mkdirat" {
			t.Errorf("notified syscall %q", name)
		}
	default:
		t.Error("no syscall reached the agent")
	}
}

func TestSeccompNotifyWithoutListenerRefused(t *testing.T) {
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
	})
	id := newID(t)
	if _, se, code := rt(t, "run", "--bundle", b.Dir, id); code == 0 || !strings.Contains(se, "listenerPath") {
		t.Errorf("notify without listenerPath: exit %d, %q", code, se)
	}
	assertNoState(t, id)
}

func TestSeccompNotifyExec(t *testing.T) {
	agent := newSeccompAgent(t)
	_, id, _ := sleeper(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  agent.path,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
		}
	})
	<-agent.state // the container's own filter
	out := mustRT(t, "exec", id, "sh", "-c", "mkdir /faked2 && echo mkdir-ok; [ -d /faked2 ] && echo exists || echo absent")
	if strings.Join(strings.Fields(out), " ") != "mkdir-ok absent" {
		t.Errorf("exec output %q: want mkdir faked by the agent", out)
	}
	select {
	case st := <-agent.state:
		if st.State.ID != id {
			t.Errorf("exec's process state names container %q, want %q", st.State.ID, id)
		}
	default:
		t.Error("the listener never got the exec process's notify fd")
	}
}
