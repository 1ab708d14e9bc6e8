package fakeissuer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/pylon-dev/pylon/test/localcluster"
)

// IssuerName is the ClusterIssuer whose Certificates the fake issuer signs.
const IssuerName = "local-ca"

// Issuer signs Certificates that reference ClusterIssuer IssuerName.
type Issuer struct {
	Client client.Client
	CA     *localcluster.CA
}

// Start creates the ClusterIssuer (a CA issuer whose Secret holds the test
// CA, Ready) and runs the fake issuer until ctx ends.
func Start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, ca *localcluster.CA) error {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		return fmt.Errorf("fake issuer: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := createIssuer(ctx, c, ca); err != nil {
		return err
	}
	i := &Issuer{Client: mgr.GetClient(), CA: ca}
	if err := ctrl.NewControllerManagedBy(mgr).Named("fake-issuer").For(&cmv1.Certificate{}).Owns(&corev1.Secret{}).Complete(i); err != nil {
		return err
	}
	go func() { _ = mgr.Start(ctx) }()
	return nil
}

// createIssuer makes the ClusterIssuer and its CA Secret, as a platform
// team installing cert-manager would.
func createIssuer(ctx context.Context, c client.Client, ca *localcluster.CA) error {
	key, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: IssuerName, Namespace: "cert-manager"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: ca.CertPEM, corev1.TLSPrivateKeyKey: key},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cert-manager"}}
	issuer := &cmv1.ClusterIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: IssuerName},
		Spec:       cmv1.IssuerSpec{IssuerConfig: cmv1.IssuerConfig{CA: &cmv1.CAIssuer{SecretName: IssuerName}}},
	}
	for _, o := range []client.Object{ns, secret, issuer} {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	issuer.Status.Conditions = []cmv1.IssuerCondition{{
		Type: cmv1.IssuerConditionReady, Status: cmmeta.ConditionTrue, Reason: "KeyPairVerified",
		Message: "Signing CA verified (fake issuer)", LastTransitionTime: ptr(metav1.Now()), ObservedGeneration: issuer.Generation,
	}}
	return c.Status().Update(ctx, issuer)
}

// Reconcile issues a Certificate's key pair when its Secret does not hold
// a valid one for its names, then reports it Ready.
func (i *Issuer) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	crt := &cmv1.Certificate{}
	if err := i.Client.Get(ctx, req.NamespacedName, crt); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if crt.Spec.IssuerRef.Name != IssuerName || (crt.Spec.IssuerRef.Kind != "" && crt.Spec.IssuerRef.Kind != "ClusterIssuer") {
		return ctrl.Result{}, nil
	}
	secret := &corev1.Secret{}
	err := i.Client.Get(ctx, client.ObjectKey{Namespace: crt.Namespace, Name: crt.Spec.SecretName}, secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	leaf := i.valid(secret, crt)
	if leaf == nil {
		if leaf, err = i.issue(ctx, crt, secret, apierrors.IsNotFound(err)); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, i.markReady(ctx, crt, leaf)
}

// valid returns the Secret's certificate when it is signed by the CA and
// covers every DNS name of the Certificate.
func (i *Issuer) valid(secret *corev1.Secret, crt *cmv1.Certificate) *x509.Certificate {
	pair, err := tls.X509KeyPair(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil || len(pair.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || leaf.CheckSignatureFrom(i.CA.Cert) != nil || time.Now().After(leaf.NotAfter) {
		return nil
	}
	for _, n := range crt.Spec.DNSNames {
		if leaf.VerifyHostname(n) != nil {
			return nil
		}
	}
	return leaf
}

func (i *Issuer) issue(ctx context.Context, crt *cmv1.Certificate, secret *corev1.Secret, create bool) (*x509.Certificate, error) {
	validity := 90 * 24 * time.Hour
	if crt.Spec.Duration != nil {
		validity = crt.Spec.Duration.Duration
	}
	certPEM, keyPEM, err := i.CA.Issue(localcluster.CertRequest{CommonName: crt.Spec.CommonName, DNSNames: slices.Clone(crt.Spec.DNSNames), Server: true, Validity: validity})
	if err != nil {
		return nil, err
	}
	secret.Name, secret.Namespace, secret.Type = crt.Spec.SecretName, crt.Namespace, corev1.SecretTypeTLS
	secret.Data = map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM, "ca.crt": i.CA.CertPEM}
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	secret.Annotations[cmv1.CertificateNameKey] = crt.Name
	secret.Annotations[cmv1.IssuerNameAnnotationKey] = IssuerName
	secret.Annotations[cmv1.IssuerKindAnnotationKey] = "ClusterIssuer"
	if create {
		err = i.Client.Create(ctx, secret)
	} else {
		err = i.Client.Update(ctx, secret)
	}
	if err != nil {
		return nil, fmt.Errorf("write secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	der, err := pemDecode(certPEM)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func (i *Issuer) markReady(ctx context.Context, crt *cmv1.Certificate, leaf *x509.Certificate) error {
	for _, c := range crt.Status.Conditions {
		if c.Type == cmv1.CertificateConditionReady && c.Status == cmmeta.ConditionTrue && c.ObservedGeneration == crt.Generation &&
			crt.Status.NotAfter != nil && crt.Status.NotAfter.Time.Equal(leaf.NotAfter) {
			return nil
		}
	}
	now := metav1.Now()
	rev := 1
	if crt.Status.Revision != nil {
		rev = *crt.Status.Revision + 1
	}
	crt.Status = cmv1.CertificateStatus{
		Conditions: []cmv1.CertificateCondition{{
			Type: cmv1.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready",
			Message: "Certificate is up to date and has not expired", LastTransitionTime: &now, ObservedGeneration: crt.Generation,
		}},
		NotBefore: &metav1.Time{Time: leaf.NotBefore}, NotAfter: &metav1.Time{Time: leaf.NotAfter},
		RenewalTime: &metav1.Time{Time: leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)}, Revision: &rev,
	}
	return i.Client.Status().Update(ctx, crt)
}

func pemDecode(b []byte) ([]byte, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no pem block in issued certificate")
	}
	return block.Bytes, nil
}

func ptr[T any](v T) *T { return &v }
