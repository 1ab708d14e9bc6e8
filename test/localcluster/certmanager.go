package localcluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/pylon-dev/pylon/test/testenv"
)

// cert-manager in the local cluster: its own controllers for the CA issuer
// path (hack/tools/certmanager), built by `make cert-manager` into
// bin/cert-manager-<CertManagerVersion>.
const (
	// CertManagerVersion is the cert-manager release the tools module
	// builds (keep in step with hack/make/certmanager.mk and
	// hack/tools/certmanager/go.mod; a unit test checks).
	CertManagerVersion = "v1.21.2"
	// CertManagerNamespace is cert-manager's cluster resource namespace:
	// the Secrets of ClusterIssuers live there.
	CertManagerNamespace = "cert-manager"
	// ClusterIssuerName is the CA ClusterIssuer the local cluster creates:
	// it signs with the cluster's CA (Cluster.CA), which the tests and the
	// demo trust.
	ClusterIssuerName = "local-ca"
	// certManagerUser is the identity cert-manager runs as. It is a member
	// of system:masters: cert-manager's RBAC lives in its Helm chart
	// templates, not in plain manifests the harness could apply.
	certManagerUser = "system:serviceaccount:" + CertManagerNamespace + ":cert-manager"
	// certManagerMetrics is cert-manager's metrics endpoint (loopback).
	certManagerMetrics = "127.0.0.1:9402"
)

// CertManager is cert-manager running in the local cluster.
type CertManager struct {
	Process *Process
}

// StartCertManager installs cert-manager's CRDs (idempotent), starts its
// controllers from bin, creates the CA Secret of ClusterIssuerName in
// CertManagerNamespace and the ClusterIssuer, and waits until cert-manager
// reports the ClusterIssuer Ready.
func (c *Cluster) StartCertManager(ctx context.Context, repoRoot, bin string) (*CertManager, error) {
	crds, err := testenv.OptionalCRDPaths(repoRoot, testenv.Options{CertManager: true})
	if err != nil {
		return nil, err
	}
	if _, err := envtest.InstallCRDs(c.Admin, envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true, Scheme: c.Scheme}); err != nil {
		return nil, fmt.Errorf("install cert-manager crds: %w", err)
	}
	kc, err := c.WriteKubeconfig(certManagerUser, []string{"system:masters"})
	if err != nil {
		return nil, err
	}
	cm := &CertManager{Process: &Process{Name: "cert-manager", Path: bin, LogPath: c.logPath("cert-manager"), Args: []string{
		"--kubeconfig=" + kc, "--cluster-resource-namespace=" + CertManagerNamespace,
		"--metrics-listen-address=" + certManagerMetrics,
	}}}
	if err := c.createLocalCAIssuer(ctx); err != nil {
		return nil, err
	}
	if err := cm.Process.Start(); err != nil {
		return nil, err
	}
	if err := c.WaitIssuerReady(ctx, client.ObjectKey{Name: ClusterIssuerName}, 60*time.Second); err != nil {
		_ = cm.Stop()
		return nil, fmt.Errorf("%w (log: %s)", err, cm.Process.LogPath)
	}
	return cm, nil
}

// Stop stops cert-manager.
func (cm *CertManager) Stop() error {
	if cm == nil {
		return nil
	}
	return cm.Process.Stop(10 * time.Second)
}

// createLocalCAIssuer makes the CA Secret and the ClusterIssuer, as a
// platform team installing cert-manager would.
func (c *Cluster) createLocalCAIssuer(ctx context.Context) error {
	key, err := c.CA.KeyPEM()
	if err != nil {
		return err
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CertManagerNamespace}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: ClusterIssuerName, Namespace: CertManagerNamespace},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: c.CA.CertPEM, corev1.TLSPrivateKeyKey: key},
		},
		&cmv1.ClusterIssuer{
			ObjectMeta: metav1.ObjectMeta{Name: ClusterIssuerName},
			Spec:       cmv1.IssuerSpec{IssuerConfig: cmv1.IssuerConfig{CA: &cmv1.CAIssuer{SecretName: ClusterIssuerName}}},
		},
	}
	for _, o := range objs {
		if err := c.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// WaitIssuerReady waits until cert-manager reports an Issuer (key with a
// namespace) or ClusterIssuer (no namespace) Ready at its generation.
func (c *Cluster) WaitIssuerReady(ctx context.Context, key client.ObjectKey, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	kind := "ClusterIssuer"
	if key.Namespace != "" {
		kind = "Issuer"
	}
	var why string
	for {
		var obj client.Object = &cmv1.ClusterIssuer{}
		if key.Namespace != "" {
			obj = &cmv1.Issuer{}
		}
		if err := c.Client.Get(ctx, key, obj); err != nil {
			why = err.Error()
		} else {
			st := obj.(cmv1.GenericIssuer).GetStatus()
			why = "no Ready condition"
			for _, cond := range st.Conditions {
				if cond.Type != cmv1.IssuerConditionReady {
					continue
				}
				if cond.ObservedGeneration == obj.GetGeneration() && cond.Status == cmmeta.ConditionTrue {
					return nil
				}
				why = fmt.Sprintf("Ready=%s at generation %d of %d: %s: %s", cond.Status, cond.ObservedGeneration, obj.GetGeneration(), cond.Reason, cond.Message)
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s %s not ready: %s", kind, key, why), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// certManagerBin is where `make cert-manager` puts the binary.
func certManagerBin(root string) string {
	return filepath.Join(root, "bin", "cert-manager-"+CertManagerVersion)
}
