package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
	"github.com/pylon-dev/pylon/test/testenv"
)

// Paths are the binaries a local cluster with Pylon needs.
type Paths struct {
	RepoRoot, BinDir, ManagerBin, GatewayBin string
	// CertManagerBin is cert-manager's controllers (make cert-manager);
	// empty: the cluster runs without cert-manager.
	CertManagerBin string
	// ExternalDNSBin is the real external-dns (make external-dns); when
	// set, clusters with the default Gateway run it and their default
	// ExposureClass publishes through DNSEndpoints.
	ExternalDNSBin string
}

// DefaultPaths are where `make e2e-deps` puts the binaries:
// bin/k8s/<version> (or KUBEBUILDER_ASSETS) and bin/e2e.
func DefaultPaths() (Paths, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return Paths{}, err
	}
	bin := filepath.Join(root, "bin", "k8s", testenv.KubernetesVersion)
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "kube-controller-manager")); err == nil {
			bin = dir
		}
	}
	p := Paths{
		RepoRoot: root, BinDir: bin, ExternalDNSBin: externalDNSBin(root),
		ManagerBin: filepath.Join(root, "bin", "e2e", "manager"),
		GatewayBin: filepath.Join(root, "bin", "e2e", "gateway"),
	}
	p.CertManagerBin = certManagerBin(root)
	return p, nil
}

// Missing lists the binaries that are not built yet.
func (p Paths) Missing() []string {
	var out []string
	for _, f := range []string{
		filepath.Join(p.BinDir, "etcd"), filepath.Join(p.BinDir, "kube-apiserver"),
		filepath.Join(p.BinDir, "kube-controller-manager"), p.ManagerBin, p.GatewayBin, p.CertManagerBin, p.ExternalDNSBin,
	} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			out = append(out, f)
		}
	}
	return out
}

// Scheme has every type the harness and the tests use.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(pylonv1alpha1.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(gwv1beta1.Install(s))
	utilruntime.Must(certmanagerv1.AddToScheme(s))
	utilruntime.Must(externaldnsv1alpha1.AddToScheme(s))
	return s
}

// Env is a local cluster with Pylon installed (and cert-manager, when
// Paths.CertManagerBin is set).
type Env struct {
	*Cluster
	Pylon       *Pylon
	CertManager *CertManager
	// ExternalDNS runs when Paths.ExternalDNSBin is set (nil otherwise).
	ExternalDNS *ExternalDNS
}

// StartWithPylon starts a cluster and installs Pylon with its default
// Gateway and ExposureClass.
func StartWithPylon(ctx context.Context, p Paths, dir string) (*Env, error) {
	return StartWith(ctx, p, PylonOptions{RepoRoot: p.RepoRoot, ManagerBin: p.ManagerBin, GatewayBin: p.GatewayBin}, dir)
}

// StartWith starts a cluster and installs Pylon with o.
func StartWith(ctx context.Context, p Paths, o PylonOptions, dir string) (*Env, error) {
	c, err := Start(ctx, Options{BinDir: p.BinDir, Scheme: Scheme(), Dir: dir})
	if err != nil {
		return nil, err
	}
	withDNS := p.ExternalDNSBin != "" && !o.NoDefaultGateway
	if withDNS {
		crd, err := ExternalDNSCRD(p.RepoRoot)
		if err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		o.ExtraCRDs = append(o.ExtraCRDs, crd)
	}
	py, err := c.InstallPylon(ctx, o)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("install pylon: %w", err), c.Stop())
	}
	e := &Env{Cluster: c, Pylon: py}
	if p.CertManagerBin != "" {
		if e.CertManager, err = c.StartCertManager(ctx, p.RepoRoot, p.CertManagerBin); err != nil {
			return nil, errors.Join(fmt.Errorf("start cert-manager: %w", err), py.Stop(), c.Stop())
		}
	}
	if withDNS {
		if e.ExternalDNS, err = c.StartExternalDNS(ctx, ExternalDNSOptions{Bin: p.ExternalDNSBin}); err == nil {
			err = c.PublishWithDNSEndpoints(ctx, "pylon", 60)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("external-dns: %w", err), e.Stop())
		}
	}
	return e, nil
}

// Stop stops external-dns, cert-manager, Pylon and the cluster.
func (e *Env) Stop() error {
	var errs []error
	if e.ExternalDNS != nil {
		errs = append(errs, e.ExternalDNS.Stop(5*time.Second))
	}
	return errors.Join(append(errs, e.CertManager.Stop(), e.Pylon.Stop(), e.Cluster.Stop())...)
}
