package moto

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
)

// The layer: moto_server with the Cognito behaviours moto lacks added
// around it (ext/*_ext.py, one module per patched service), started by
// ext/runner.py. It is embedded, so that every binary and test starts the
// same layer from any directory, and written to a directory named after
// its content the first time a process needs it.
//
//go:embed ext/*.py
var layerFiles embed.FS

// RequiredMoto is the moto release the layer's patches were written for;
// the runner refuses any other (infra/install-tools.sh installs it).
const RequiredMoto = "5.2.1"

// Exit statuses of ext/runner.py.
const (
	exitNoMoto    = 3 // moto is not installed
	exitWrongMoto = 4 // another moto release is installed
)

// LayerEnv carries the layer's content hash to the server, which reports
// it at GET /_ext/status: a running server with another layer (an older
// checkout's, left running detached) is not reused.
const LayerEnv = "KAKAOAUTH_MOTO_LAYER"

var layer struct {
	once sync.Once
	dir  string
	hash string
	err  error
}

// layerHash is the hash of the layer's files (names and contents).
func layerHash() (string, error) {
	files, err := fs.Glob(layerFiles, "ext/*.py")
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := layerFiles.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// layerDir writes the layer once per content to
// <temp>/kakaoauth-moto-layer-<hash> and returns that directory and hash.
func layerDir() (string, string, error) {
	layer.once.Do(func() {
		if layer.hash, layer.err = layerHash(); layer.err != nil {
			return
		}
		dir := filepath.Join(os.TempDir(), "kakaoauth-moto-layer-"+layer.hash)
		if _, err := os.Stat(filepath.Join(dir, "runner.py")); err == nil {
			layer.dir = dir
			return
		}
		// Written beside and renamed into place: a concurrent process
		// sees the whole layer or none of it.
		tmp, err := os.MkdirTemp(os.TempDir(), "kakaoauth-moto-layer-*")
		if err != nil {
			layer.err = fmt.Errorf("moto: write the layer: %w", err)
			return
		}
		files, _ := fs.Glob(layerFiles, "ext/*.py")
		for _, f := range files {
			data, _ := layerFiles.ReadFile(f)
			if err := os.WriteFile(filepath.Join(tmp, path.Base(f)), data, 0o644); err != nil {
				os.RemoveAll(tmp)
				layer.err = fmt.Errorf("moto: write the layer: %w", err)
				return
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			if _, serr := os.Stat(filepath.Join(dir, "runner.py")); serr != nil {
				layer.err = fmt.Errorf("moto: write the layer: %w", err)
				return
			}
		}
		layer.dir = dir
	})
	return layer.dir, layer.hash, layer.err
}
