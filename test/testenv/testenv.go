// Package testenv starts a real kube-apiserver and etcd (envtest) with
// Pylon's CRDs, for tests. The binaries come from KUBEBUILDER_ASSETS when it
// is set, else from bin/k8s/<version>, where `make envtest` builds them from
// Go modules (nothing is downloaded). Third-party CRDs are read from their
// own Go modules, never from copies.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// KubernetesVersion is the release whose kube-apiserver `make envtest` builds.
const KubernetesVersion = "v1.36.3"

// Options choose the optional APIs to install besides Pylon's own.
type Options struct {
	// GatewayAPI installs the standard-channel Gateway API CRDs.
	GatewayAPI bool
}

// Env is a running control plane.
type Env struct {
	Config *rest.Config
	Scheme *runtime.Scheme
	env    *envtest.Environment
}

// Start starts etcd and kube-apiserver and installs the CRDs.
func Start(opts Options) (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	crdPaths := []string{filepath.Join(root, "config", "crd", "bases")}
	if opts.GatewayAPI {
		dir, err := moduleDir(root, "sigs.k8s.io/gateway-api")
		if err != nil {
			return nil, err
		}
		files, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
		if err != nil {
			return nil, err
		}
		crdPaths = append(crdPaths, files...)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest with binaries from %s: %w", assets, err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pylonv1alpha1.AddToScheme(scheme))
	return &Env{Config: cfg, Scheme: scheme, env: env}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.env.Stop() }

// RepoRoot is the directory of Pylon's go.mod, found from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/pylon-dev/pylon\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the Pylon repository (no go.mod of github.com/pylon-dev/pylon above the working directory)")
		}
		dir = parent
	}
}

func assetsDir(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(root, "bin", "k8s", KubernetesVersion)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("envtest needs %s in %s: run `make envtest` (builds it from Go modules) or set KUBEBUILDER_ASSETS: %w", bin, dir, err)
		}
	}
	return dir, nil
}

// moduleDir is the module cache directory of a module in Pylon's go.mod.
func moduleDir(root, module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list -m %s: %s: %w", module, ee.Stderr, err)
		}
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}
