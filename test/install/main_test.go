package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/pylon-dev/pylon/test/localcluster"
	"github.com/pylon-dev/pylon/test/testenv"
)

// cluster is the one local cluster every install path is tried on, in turn:
// it starts empty but for the Gateway API CRDs (a prerequisite users install
// first, docs/install.md).
var (
	cluster *localcluster.Cluster
	paths   localcluster.Paths
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	var err error
	if paths, err = localcluster.DefaultPaths(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	missing := paths.Missing()
	if _, err := os.Stat(helmBin()); err != nil {
		missing = append(missing, helmBin())
	}
	// Missing binaries fail the package: a run that tested nothing must not
	// read as a pass. `make test` builds them first (TEST_DEPS).
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "install: binaries not built, run `make e2e-deps helm kustomize` (or `make test`): %s\n", strings.Join(missing, ", "))
		return 1
	}
	if err := localcluster.Isolate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scheme := localcluster.Scheme()
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	// Pylon's own Pods (manager, gateway) cannot run their image here: the
	// node leaves them Pending and each test runs their processes itself.
	// Only WebApps' Pods are served by the simulated node.
	cluster, err = localcluster.Start(ctx, localcluster.Options{BinDir: paths.BinDir, Scheme: scheme, Unserved: func(p *corev1.Pod) bool {
		_, isApp := p.Labels["pylon.dev/webapp"]
		return !isApp
	}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start local cluster: %v\n", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop local cluster: %v\n", err)
		}
	}()
	crds, err := testenv.OptionalCRDPaths(paths.RepoRoot, testenv.Options{GatewayAPI: true})
	if err == nil {
		_, err = envtest.InstallCRDs(cluster.Admin, envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true, Scheme: scheme})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "install the Gateway API CRDs: %v\n", err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		logs, _ := filepath.Glob(filepath.Join(cluster.Dir, "logs", "*_*.log"))
		for _, l := range append(logs, cluster.LogPath("kube-controller-manager")) {
			localcluster.DumpTail(l, 30)
		}
	}
	return code
}

func helmBin() string {
	return filepath.Join(paths.RepoRoot, "bin", "helm-"+helmVersion)
}
