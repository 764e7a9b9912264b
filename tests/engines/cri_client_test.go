package engines

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criClient is a CRI v1 client of the environment's containerd.
type criClient struct {
	conn *grpc.ClientConn
	rs   cri.RuntimeServiceClient
	is   cri.ImageServiceClient
}

func (e *engineEnv) dialCRI() (*criClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "unix://"+e.sock,
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithBlock())
	if err != nil {
		return nil, fmt.Errorf("dial CRI at %s: %w", e.sock, err)
	}
	return &criClient{conn: conn, rs: cri.NewRuntimeServiceClient(conn), is: cri.NewImageServiceClient(conn)}, nil
}

func (c *criClient) Close() { c.conn.Close() }

// callCtx bounds one CRI call.
func callCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// removeCRIPods stops and removes every pod sandbox (and so its containers).
func (e *engineEnv) removeCRIPods() {
	c, err := e.dialCRI()
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := callCtx(20 * time.Second)
	defer cancel()
	resp, err := c.rs.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, p := range resp.Items {
		c.removePod(p.Id)
	}
}

// removePod stops and removes a pod sandbox, ignoring errors (cleanup).
func (c *criClient) removePod(id string) {
	ctx, cancel := callCtx(60 * time.Second)
	defer cancel()
	c.rs.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: id})
	c.rs.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: id})
}
