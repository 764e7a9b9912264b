package engines

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Image names the test imports into containerd (no registry is reachable):
// a busybox image whose default command is sh, and a sandbox ("pause") image
// whose entrypoint sleeps forever. Both share one busybox layer.
const (
	busyboxImage = "localhost/rt-busybox:1"
	pauseImage   = "localhost/rt-pause:1"
)

// findStaticBusybox returns a statically linked busybox (the image has no
// shared libraries).
func findStaticBusybox() (string, error) {
	for _, c := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		p, err := filepath.EvalSymlinks(c)
		if err != nil {
			continue
		}
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", fmt.Errorf("no statically linked busybox in /bin or /usr/bin")
}

// rootfsLayer returns an uncompressed tar of a busybox root filesystem.
func rootfsLayer(busybox string) ([]byte, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, data []byte) error {
		h.Uid, h.Gid, h.Format = 0, 0, tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("layer entry %q: %w", h.Name, err)
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "root", "run", "var", "tmp"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := add(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode}, nil); err != nil {
			return nil, err
		}
	}
	if err := add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := add(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := add(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}, []byte(content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer tar: %w", err)
	}
	return buf.Bytes(), nil
}

// ociBlobs collects content-addressed blobs of an OCI image layout.
type ociBlobs map[string][]byte

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func (b ociBlobs) add(mediaType string, data []byte) descriptor {
	sum := sha256.Sum256(data)
	d := hex.EncodeToString(sum[:])
	b[d] = data
	return descriptor{MediaType: mediaType, Digest: "sha256:" + d, Size: len(data)}
}

// imageManifest adds the config and manifest of one image on layer and
// returns the manifest's descriptor, annotated with the image name.
func (b ociBlobs) imageManifest(name string, layer descriptor, entrypoint, cmd []string) (descriptor, error) {
	cfg, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config": map[string]any{
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Entrypoint": entrypoint,
			"Cmd":        cmd,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.Digest}},
	})
	if err != nil {
		return descriptor{}, fmt.Errorf("image config of %s: %w", name, err)
	}
	cd := b.add("application/vnd.oci.image.config.v1+json", cfg)
	man, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        cd,
		"layers":        []descriptor{layer},
	})
	if err != nil {
		return descriptor{}, fmt.Errorf("manifest of %s: %w", name, err)
	}
	md := b.add("application/vnd.oci.image.manifest.v1+json", man)
	md.Annotations = map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": name[strings.LastIndex(name, ":")+1:],
	}
	return md, nil
}

// writeImageArchive writes an OCI image layout tar holding busyboxImage and
// pauseImage to path, for `ctr images import`.
func writeImageArchive(path, busybox string) error {
	layerTar, err := rootfsLayer(busybox)
	if err != nil {
		return err
	}
	blobs := ociBlobs{}
	layer := blobs.add("application/vnd.oci.image.layer.v1.tar", layerTar)
	bbMan, err := blobs.imageManifest(busyboxImage, layer, nil, []string{"sh"})
	if err != nil {
		return err
	}
	pauseMan, err := blobs.imageManifest(pauseImage, layer, []string{"/bin/sleep", "infinity"}, nil)
	if err != nil {
		return err
	}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []descriptor{bbMan, pauseMan}})
	if err != nil {
		return fmt.Errorf("image index: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create image archive: %w", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return fmt.Errorf("archive entry %q: %w", name, err)
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := put("index.json", index); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return fmt.Errorf("archive blobs dir: %w", err)
	}
	for d, data := range blobs {
		if err := put("blobs/sha256/"+d, data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close image archive: %w", err)
	}
	return f.Close()
}
