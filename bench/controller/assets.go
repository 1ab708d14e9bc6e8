package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pylon-dev/pylon/test/testenv"
)

// serviceRange replaces envtest's 10.0.0.0/24 Service range, which runs
// out after about 250 Services: 5,000 WebApps need over 6,000.
const serviceRange = "10.96.0.0/16"

// widenServiceRange points KUBEBUILDER_ASSETS at a directory whose
// kube-apiserver runs the real one with a wider Service range (the last
// value of a repeated flag wins) and returns a cleanup function.
func widenServiceRange() (func(), error) {
	src := os.Getenv("KUBEBUILDER_ASSETS")
	if src == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			return nil, err
		}
		src = filepath.Join(root, "bin", "k8s", testenv.KubernetesVersion)
	}
	src, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("assets dir: %w", err)
	}
	dir, err := os.MkdirTemp("", "bench-assets-")
	if err != nil {
		return nil, fmt.Errorf("assets dir: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := os.Symlink(filepath.Join(src, "etcd"), filepath.Join(dir, "etcd")); err != nil {
		cleanup()
		return nil, fmt.Errorf("link etcd: %w", err)
	}
	script := "#!/bin/sh\nexec " + strconv.Quote(filepath.Join(src, "kube-apiserver")) + ` "$@" --service-cluster-ip-range=` + serviceRange + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver"), []byte(script), 0o755); err != nil {
		cleanup()
		return nil, fmt.Errorf("write kube-apiserver wrapper: %w", err)
	}
	if err := os.Setenv("KUBEBUILDER_ASSETS", dir); err != nil {
		cleanup()
		return nil, fmt.Errorf("set KUBEBUILDER_ASSETS: %w", err)
	}
	return cleanup, nil
}
