package fs1

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDeviceValueAndRdma(t *testing.T) {
	if got := deviceValue(specs.LinuxBlockIODevice{Major: 8, Minor: 0}, 1048576); got != "8:0 1048576" {
		t.Errorf("deviceValue: %q", got)
	}
	if got := rdmaLine("mlx4_0", specs.LinuxRdma{HcaHandles: u32(2), HcaObjects: u32(2000)}); got != "mlx4_0 hca_handle=2 hca_object=2000" {
		t.Errorf("rdmaLine: %q", got)
	}
	if got := rdmaLine("mlx4_0", specs.LinuxRdma{HcaObjects: u32(7)}); got != "mlx4_0 hca_object=7" {
		t.Errorf("rdmaLine: %q", got)
	}
}
