package engines

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRIPodLifecycle drives containerd's CRI plugin (the path Kubernetes
// uses) with the runtime handler "rt": a host-network pod with a long-running
// container (exec, stats, memory limit, stop, remove) and a container that
// exits with a code and writes to its log.
func TestCRIPodLifecycle(t *testing.T) {
	e := engine(t)
	c, err := e.dialCRI()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var podID, ctrID string
	var podConfig *cri.PodSandboxConfig
	const memLimit = 64 << 20

	ok := t.Run("Version", func(t *testing.T) {
		ctx, cancel := callCtx(10 * time.Second)
		defer cancel()
		v, err := c.rs.Version(ctx, &cri.VersionRequest{Version: "v1"})
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		t.Logf("runtime %s %s, CRI %s", v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)
		if v.RuntimeName != "containerd" || v.RuntimeApiVersion != "v1" {
			t.Fatalf("Version = %s / API %s, want containerd / v1", v.RuntimeName, v.RuntimeApiVersion)
		}
	})
	ok = ok && t.Run("RunPodSandbox", func(t *testing.T) {
		podConfig = &cri.PodSandboxConfig{
			Metadata: &cri.PodSandboxMetadata{Name: "rt-pod", Uid: "rt-pod-uid-" + e.cgParent, Namespace: "rt-test", Attempt: 0},
			// no Hostname: like the kubelet for host-network pods (a
			// hostname needs a private UTS namespace, which they lack)
			LogDirectory: filepath.Join(e.dir, "pod-logs"),
			Linux: &cri.LinuxPodSandboxConfig{
				CgroupParent: "/" + e.cgParent,
				SecurityContext: &cri.LinuxSandboxSecurityContext{
					NamespaceOptions: &cri.NamespaceOption{Network: cri.NamespaceMode_NODE},
				},
			},
		}
		ctx, cancel := callCtx(90 * time.Second)
		defer cancel()
		resp, err := c.rs.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: podConfig, RuntimeHandler: "rt"})
		if err != nil {
			t.Fatalf("RunPodSandbox: %v\ncontainerd log:\n%s", err, e.logTail(15))
		}
		podID = resp.PodSandboxId
		e.track(criNamespace, podID)
		t.Cleanup(func() {
			if t.Failed() {
				c.removePod(podID)
			}
		})
		e.assertRtState(t, podID, true)
	})
	ok = ok && t.Run("CreateStartContainer", func(t *testing.T) {
		ctrID = createContainer(t, e, c, podID, podConfig, &cri.ContainerConfig{
			Metadata: &cri.ContainerMetadata{Name: "sleeper"},
			Image:    &cri.ImageSpec{Image: busyboxImage},
			Command:  []string{"sleep", "1000"},
			LogPath:  "sleeper.log",
			Linux: &cri.LinuxContainerConfig{
				Resources: &cri.LinuxContainerResources{MemoryLimitInBytes: memLimit},
			},
		})
		ctx, cancel := callCtx(60 * time.Second)
		defer cancel()
		if _, err := c.rs.StartContainer(ctx, &cri.StartContainerRequest{ContainerId: ctrID}); err != nil {
			t.Fatalf("StartContainer: %v\ncontainerd log:\n%s", err, e.logTail(15))
		}
		if st := containerStatus(t, c, ctrID); st.State != cri.ContainerState_CONTAINER_RUNNING {
			t.Fatalf("container state %v after start, want RUNNING", st.State)
		}
		e.assertRtState(t, ctrID, true)
		e.assertRtCalled(t, "create", ctrID)
	})
	ok = ok && t.Run("ExecSync", func(t *testing.T) {
		stdout, stderr, code := execSync(t, c, ctrID, "echo", "hello")
		if code != 0 || stdout != "hello\n" {
			t.Fatalf("exec echo hello: exit %d, stdout %q, stderr %q; want 0, \"hello\\n\"", code, stdout, stderr)
		}
		stdout, stderr, code = execSync(t, c, ctrID, "sh", "-c", "echo oops >&2; exit 3")
		if code != 3 || stderr != "oops\n" {
			t.Fatalf("exec exit 3: exit %d, stdout %q, stderr %q; want 3, stderr \"oops\\n\"", code, stdout, stderr)
		}
		e.assertRtCalled(t, "exec", ctrID)
	})
	ok = ok && t.Run("ListContainersAndStats", func(t *testing.T) {
		ctx, cancel := callCtx(20 * time.Second)
		defer cancel()
		list, err := c.rs.ListContainers(ctx, &cri.ListContainersRequest{Filter: &cri.ContainerFilter{PodSandboxId: podID}})
		if err != nil {
			t.Fatalf("ListContainers: %v", err)
		}
		if len(list.Containers) != 1 || list.Containers[0].Id != ctrID || list.Containers[0].State != cri.ContainerState_CONTAINER_RUNNING {
			t.Fatalf("ListContainers = %v, want only %s RUNNING", list.Containers, ctrID)
		}
		stats, err := c.rs.ContainerStats(ctx, &cri.ContainerStatsRequest{ContainerId: ctrID})
		if err != nil {
			t.Fatalf("ContainerStats: %v", err)
		}
		mem := stats.GetStats().GetMemory()
		if mem == nil || mem.WorkingSetBytes == nil {
			t.Fatalf("ContainerStats has no memory working set: %v", stats.GetStats())
		}
		t.Logf("memory working set %d bytes", mem.WorkingSetBytes.Value)
	})
	ok = ok && t.Run("MemoryLimitInCgroup", func(t *testing.T) {
		pid := containerPid(t, c, ctrID)
		got, err := memoryLimitOf(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got != memLimit {
			t.Fatalf("memory limit of container pid %d = %d, want %d", pid, got, memLimit)
		}
	})
	ok = ok && t.Run("StopRemoveContainer", func(t *testing.T) {
		ctx, cancel := callCtx(60 * time.Second)
		defer cancel()
		// the pod shares one pid namespace (the sandbox holds pid 1), so sleep
		// is not pid 1 and dies of SIGTERM: exit 128+15
		if _, err := c.rs.StopContainer(ctx, &cri.StopContainerRequest{ContainerId: ctrID, Timeout: 2}); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		st := containerStatus(t, c, ctrID)
		if st.State != cri.ContainerState_CONTAINER_EXITED || st.ExitCode != 143 {
			t.Fatalf("after stop: state %v exit %d, want EXITED 143", st.State, st.ExitCode)
		}
		if _, err := c.rs.RemoveContainer(ctx, &cri.RemoveContainerRequest{ContainerId: ctrID}); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
		e.assertRtState(t, ctrID, false)
		e.assertRtCalled(t, "delete", ctrID)
	})
	ok = ok && t.Run("ContainerExitCodeAndLog", func(t *testing.T) {
		id := createContainer(t, e, c, podID, podConfig, &cri.ContainerConfig{
			Metadata: &cri.ContainerMetadata{Name: "exiter"},
			Image:    &cri.ImageSpec{Image: busyboxImage},
			Command:  []string{"sh", "-c", "echo bye-from-rt; exit 7"},
			LogPath:  "exiter.log",
		})
		ctx, cancel := callCtx(60 * time.Second)
		defer cancel()
		if _, err := c.rs.StartContainer(ctx, &cri.StartContainerRequest{ContainerId: id}); err != nil {
			t.Fatalf("StartContainer: %v", err)
		}
		var st *cri.ContainerStatus
		for i := 0; i < 100; i++ {
			if st = containerStatus(t, c, id); st.State == cri.ContainerState_CONTAINER_EXITED {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if st.State != cri.ContainerState_CONTAINER_EXITED || st.ExitCode != 7 {
			t.Fatalf("state %v exit %d, want EXITED 7", st.State, st.ExitCode)
		}
		log, err := os.ReadFile(st.LogPath)
		if err != nil || !strings.Contains(string(log), " stdout F bye-from-rt") {
			t.Fatalf("container log %s = %q (%v), want a CRI stdout line bye-from-rt", st.LogPath, log, err)
		}
		if _, err := c.rs.RemoveContainer(ctx, &cri.RemoveContainerRequest{ContainerId: id}); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
	})
	ok = ok && t.Run("StopRemovePodSandbox", func(t *testing.T) {
		ctx, cancel := callCtx(60 * time.Second)
		defer cancel()
		if _, err := c.rs.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
			t.Fatalf("StopPodSandbox: %v", err)
		}
		if _, err := c.rs.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
			t.Fatalf("RemovePodSandbox: %v", err)
		}
		list, err := c.rs.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
		if err != nil {
			t.Fatalf("ListPodSandbox: %v", err)
		}
		for _, p := range list.Items {
			if p.Id == podID {
				t.Fatalf("pod %s still listed after removal", podID)
			}
		}
		e.assertRtState(t, podID, false)
	})
	if !ok {
		t.Logf("runtime calls:\n%s", strings.Join(e.runtimeCalls(), "\n"))
	}
}

func createContainer(t *testing.T, e *engineEnv, c *criClient, podID string, pod *cri.PodSandboxConfig, cfg *cri.ContainerConfig) string {
	t.Helper()
	ctx, cancel := callCtx(60 * time.Second)
	defer cancel()
	resp, err := c.rs.CreateContainer(ctx, &cri.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v\ncontainerd log:\n%s", cfg.Metadata.Name, err, e.logTail(15))
	}
	return resp.ContainerId
}

func containerStatus(t *testing.T, c *criClient, id string) *cri.ContainerStatus {
	t.Helper()
	ctx, cancel := callCtx(20 * time.Second)
	defer cancel()
	resp, err := c.rs.ContainerStatus(ctx, &cri.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	return resp.Status
}

// containerPid reads the init pid from the verbose ContainerStatus info.
func containerPid(t *testing.T, c *criClient, id string) int {
	t.Helper()
	ctx, cancel := callCtx(20 * time.Second)
	defer cancel()
	resp, err := c.rs.ContainerStatus(ctx, &cri.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil || info.Pid <= 0 {
		t.Fatalf("no pid in verbose status info of %s (%v): %.300s", id, err, resp.Info["info"])
	}
	return info.Pid
}

func execSync(t *testing.T, c *criClient, id string, cmd ...string) (string, string, int32) {
	t.Helper()
	ctx, cancel := callCtx(40 * time.Second)
	defer cancel()
	resp, err := c.rs.ExecSync(ctx, &cri.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: 30})
	if err != nil {
		t.Fatalf("ExecSync %v: %v", cmd, err)
	}
	return string(resp.Stdout), string(resp.Stderr), resp.ExitCode
}

// assertRtState checks that rt's state dir for id under the CRI runtime's
// Root exists (want) or is gone (!want): the container is rt's.
func (e *engineEnv) assertRtState(t *testing.T, id string, want bool) {
	t.Helper()
	p := filepath.Join(e.criRoot, criNamespace, id, "state.json")
	_, err := os.Stat(p)
	if want && err != nil {
		t.Fatalf("rt state %s: %v (was the container created by rt?)", p, err)
	}
	if !want && err == nil {
		t.Fatalf("rt state %s still exists after removal", p)
	}
}

// assertRtCalled checks that the wrapper logged a runtime call of sub for id.
func (e *engineEnv) assertRtCalled(t *testing.T, sub, id string) {
	t.Helper()
	for _, call := range e.runtimeCalls() {
		f := strings.Fields(call)
		if contains(f, sub) && contains(f, id) {
			return
		}
	}
	t.Fatalf("no `rt %s ... %s` call in %s", sub, id, e.callLog)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
