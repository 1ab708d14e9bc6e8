// Package testenv starts a real kube-apiserver and etcd (envtest) with
// Pylon's CRDs, for tests. The binaries come from KUBEBUILDER_ASSETS when it
// is set, else from bin/k8s/<version>, where `make envtest` builds them from
// Go modules (nothing is downloaded). Third-party CRDs are read from their
// own Go modules, never from copies.
package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// KubernetesVersion is the newest Kubernetes release Pylon supports: the
// one whose binaries `make envtest` builds into bin/k8s/<version>, which
// tests use unless KUBEBUILDER_ASSETS names another directory. Keep it equal
// to the Makefile's KUBERNETES_VERSION.
const KubernetesVersion = "v1.36.3"

// OldestKubernetesVersion is the oldest Kubernetes release Pylon supports
// (docs/kubernetes-versions.md): `make test-k8s-oldest` runs the envtest
// suites with KUBEBUILDER_ASSETS=bin/k8s/<this>. Keep it equal to the
// Makefile's KUBERNETES_OLDEST_VERSION.
const OldestKubernetesVersion = "v1.34.4"

// Options choose the optional APIs to install besides Pylon's own.
type Options struct {
	// GatewayAPI installs the standard-channel Gateway API CRDs.
	GatewayAPI bool
	// CertManager installs cert-manager's CRDs.
	CertManager bool
	// ExternalDNS installs external-dns' DNSEndpoint CRD.
	ExternalDNS bool
}

// ExternalDNSModule is the external-dns release whose CRD tests install. It
// is not a dependency of Pylon (see internal/externaldns): the module is only
// downloaded into the module cache for its CRD file.
const ExternalDNSModule = "sigs.k8s.io/external-dns@v0.22.0"

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
	crdPaths, err := CRDPaths(root, opts)
	if err != nil {
		return nil, err
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
	// The CRDs are installed; the parsed copies (~2 MB, held until Stop,
	// which does not uninstall them) would count in the memory figures of
	// bench/controller, which runs the manager in this process.
	env.CRDs, env.CRDInstallOptions.CRDs = nil, nil
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pylonv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gwv1.Install(scheme))
	utilruntime.Must(gwv1beta1.Install(scheme))
	utilruntime.Must(certmanagerv1.AddToScheme(scheme))
	utilruntime.Must(externaldnsv1alpha1.AddToScheme(scheme))
	return &Env{Config: cfg, Scheme: scheme, env: env}, nil
}

// CRDPaths lists Pylon's CRD directory and the CRD files of the optional
// APIs opts asks for, read from their Go modules.
func CRDPaths(root string, opts Options) ([]string, error) {
	extra, err := optionalCRDs(root, opts)
	if err != nil {
		return nil, err
	}
	return append([]string{filepath.Join(root, "config", "crd", "bases")}, extra...), nil
}

// OptionalCRDPaths lists the CRD files of the optional APIs opts asks for,
// without Pylon's own (for tests that install those the way users do).
func OptionalCRDPaths(root string, opts Options) ([]string, error) { return optionalCRDs(root, opts) }

// optionalCRDs lists the CRD files of the optional APIs opts asks for.
func optionalCRDs(root string, opts Options) ([]string, error) {
	var crdPaths []string
	if opts.GatewayAPI {
		dir, err := moduleDir(root, "sigs.k8s.io/gateway-api")
		if err != nil {
			return nil, err
		}
		files, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no Gateway API CRDs in %s", dir)
		}
		crdPaths = append(crdPaths, files...)
	}
	if opts.CertManager {
		dir, err := moduleDir(root, "github.com/cert-manager/cert-manager")
		if err != nil {
			return nil, err
		}
		files, err := filepath.Glob(filepath.Join(dir, "deploy", "crds", "cert-manager.io_*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no cert-manager CRDs in %s", dir)
		}
		crdPaths = append(crdPaths, files...)
	}
	if opts.ExternalDNS {
		dir, err := externalDNSModuleDir(root)
		if err != nil {
			return nil, err
		}
		crdPaths = append(crdPaths, filepath.Join(dir, "config", "crd", "standard", "dnsendpoints.externaldns.k8s.io.yaml"))
	}
	return crdPaths, nil
}

// InstallCRDs installs the optional APIs of opts into the running API
// server, as a cluster administrator would after Pylon started.
func (e *Env) InstallCRDs(opts Options) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	paths, err := optionalCRDs(root, opts)
	if err != nil {
		return err
	}
	_, err = envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
	return err
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

// AssetsDir is the directory holding the etcd and kube-apiserver the tests
// run: KUBEBUILDER_ASSETS when it is set, else bin/k8s/<KubernetesVersion>.
func AssetsDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return assetsDir(root)
}

// AssetsVersion is the Kubernetes release of the kube-apiserver in
// AssetsDir, as the binary itself reports it (`kube-apiserver --version`),
// so a test knows which release it runs against: the newest by default, the
// oldest under `make test-k8s-oldest`. It fails for a binary built without
// its release stamped in (v0.0.0-master+...).
func AssetsVersion() (*version.Version, error) {
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(filepath.Join(dir, "kube-apiserver"), "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", filepath.Join(dir, "kube-apiserver"), err)
	}
	// "Kubernetes v1.36.3"
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "Kubernetes "))
	v, err := version.ParseSemantic(s)
	if err != nil {
		return nil, fmt.Errorf("%s reports version %q (was it built by make envtest, which stamps the release?): %w", filepath.Join(dir, "kube-apiserver"), s, err)
	}
	if v.Major() == 0 {
		return nil, fmt.Errorf("%s reports version %q: built without its release stamped in; rebuild it with make envtest", filepath.Join(dir, "kube-apiserver"), s)
	}
	return v, nil
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

// externalDNSModuleDir downloads ExternalDNSModule into the module cache
// and returns its directory. The module is not in Pylon's go.mod: it is
// downloaded through the nested module hack/tools/externaldns, whose go.mod
// must pin the same version and whose go.sum holds its hash. Downloaded from
// Pylon's module instead, the go command would check the hash against the
// checksum database, which fails offline, e.g. inside the local cluster's
// network namespace when no test outside it has looked the module up yet.
func externalDNSModuleDir(root string) (string, error) {
	module, version, _ := strings.Cut(ExternalDNSModule, "@")
	tools := filepath.Join(root, "hack", "tools", "externaldns")
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	var info struct{ Version, Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	switch {
	case info.Error != "":
		return "", fmt.Errorf("go mod download %s (in %s): %s", module, tools, info.Error)
	case err != nil:
		return "", fmt.Errorf("go mod download %s (in %s): %w", module, tools, err)
	case info.Version != version:
		return "", fmt.Errorf("%s/go.mod pins %s %s, the tests expect %s: bring them in step", tools, module, info.Version, version)
	case info.Dir == "":
		return "", fmt.Errorf("go mod download %s (in %s): no directory", module, tools)
	}
	return info.Dir, nil
}
