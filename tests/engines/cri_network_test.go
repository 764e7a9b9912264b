package engines

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRIPodNetwork runs a pod with its own network and UTS namespaces set
// up through CNI (bridge + host-local): rt must join the network namespace
// CRI created (by path) for the sandbox and its container, and set the pod
// hostname.
func TestCRIPodNetwork(t *testing.T) {
	e := engine(t)
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", p)); err != nil {
			if os.Getenv("RT_ENGINES_REQUIRED") == "1" {
				t.Fatalf("CNI plugin %s missing although RT_ENGINES_REQUIRED=1: %v", p, err)
			}
			t.Skipf("CNI plugin /usr/lib/cni/%s not installed (containernetworking-plugins; run make test-engines)", p)
		}
	}
	c, err := e.dialCRI()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := callCtx(120 * time.Second)
	defer cancel()

	pod := &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: "rt-netpod", Uid: "rt-netpod-uid-" + e.cgParent, Namespace: "rt-test"},
		Hostname:     "rt-netpod",
		LogDirectory: filepath.Join(e.dir, "pod-logs"),
		Linux:        &cri.LinuxPodSandboxConfig{CgroupParent: "/" + e.cgParent},
	}
	resp, err := c.rs.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: pod, RuntimeHandler: "rt"})
	if err != nil {
		t.Fatalf("RunPodSandbox (CNI network): %v\ncontainerd log:\n%s", err, e.logTail(15))
	}
	podID := resp.PodSandboxId
	e.track(criNamespace, podID)
	removed := false
	defer func() {
		if !removed {
			c.removePod(podID)
		}
	}()
	status, err := c.rs.PodSandboxStatus(ctx, &cri.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus: %v", err)
	}
	netnsPath := sandboxNetnsPath(t, status.Info["info"])
	e.trackNetns(netnsPath)
	_, subnet, _ := net.ParseCIDR(e.subnet)
	podIP := status.GetStatus().GetNetwork().GetIp()
	if ip := net.ParseIP(podIP); ip == nil || !subnet.Contains(ip) {
		t.Fatalf("pod IP %q not in the CNI range %s", podIP, e.subnet)
	}
	e.assertRtState(t, podID, true)

	ctrID := createContainer(t, e, c, podID, pod, &cri.ContainerConfig{
		Metadata: &cri.ContainerMetadata{Name: "net-sleeper"},
		Image:    &cri.ImageSpec{Image: busyboxImage},
		Command:  []string{"sleep", "1000"},
		LogPath:  "net-sleeper.log",
	})
	if _, err := c.rs.StartContainer(ctx, &cri.StartContainerRequest{ContainerId: ctrID}); err != nil {
		t.Fatalf("StartContainer: %v\ncontainerd log:\n%s", err, e.logTail(15))
	}
	if out, _, code := execSync(t, c, ctrID, "hostname"); code != 0 || out != "rt-netpod\n" {
		t.Errorf("hostname in the container: %q (exit %d), want rt-netpod", out, code)
	}
	if out, _, code := execSync(t, c, ctrID, "ip", "-4", "-o", "addr", "show", "eth0"); code != 0 || !strings.Contains(out, " "+podIP+"/") {
		t.Errorf("eth0 in the container: %q (exit %d), want address %s", out, code, podIP)
	}
	// pid 1 of the shared pod pid namespace is the sandbox's process
	out, _, code := execSync(t, c, ctrID, "sh", "-c", "readlink /proc/self/ns/net; readlink /proc/1/ns/net")
	links := strings.Fields(out)
	host, _ := os.Readlink("/proc/self/ns/net")
	if code != 0 || len(links) != 2 || links[0] != links[1] || links[0] == host {
		t.Errorf("container/sandbox network namespaces %q (exit %d), want one namespace shared, not the host's %s", out, code, host)
	}
	if t.Failed() {
		return
	}

	if _, err := c.rs.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if st := containerStatus(t, c, ctrID); st.State != cri.ContainerState_CONTAINER_EXITED {
		t.Fatalf("container state %v after StopPodSandbox, want EXITED", st.State)
	}
	if _, err := c.rs.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	removed = true
	e.assertRtState(t, ctrID, false)
	e.assertRtState(t, podID, false)
	if _, err := os.Stat(netnsPath); err == nil {
		t.Fatalf("pod network namespace %s still exists after RemovePodSandbox", netnsPath)
	}
}

// sandboxNetnsPath returns the network namespace path in the runtime spec
// of a sandbox's verbose status info.
func sandboxNetnsPath(t *testing.T, info string) string {
	t.Helper()
	var v struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil {
		t.Fatalf("parse sandbox status info: %v", err)
	}
	for _, ns := range v.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" && ns.Path != "" {
			return ns.Path
		}
	}
	t.Fatalf("sandbox runtime spec has no network namespace path: %.400s", info)
	return ""
}
