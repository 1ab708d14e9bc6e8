package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// clusterBinDir is where the control-plane binaries are, or "" when they
// are not built: the tests that need a cluster then skip, and say why.
var clusterBinDir string

// TestMain moves the package's tests into a private network namespace
// (Isolate) when the binaries for a cluster are there; the unit tests run
// the same in it or outside.
func TestMain(m *testing.M) {
	if p, err := DefaultPaths(); err == nil && haveClusterBinaries(p.BinDir) {
		clusterBinDir = p.BinDir
		if err := Isolate(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func haveClusterBinaries(dir string) bool {
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return false
		}
	}
	return true
}

// startCluster starts a local cluster for one test and stops it when the
// test ends, or skips the test when the binaries are not built or -short.
func startCluster(t *testing.T) *Cluster {
	t.Helper()
	if clusterBinDir == "" {
		t.Skip("etcd, kube-apiserver or kube-controller-manager not built (make e2e-deps, or KUBEBUILDER_ASSETS)")
	}
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c, err := Start(context.Background(), Options{BinDir: clusterBinDir, Scheme: Scheme()})
	if err != nil {
		t.Fatalf("start the local cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}
