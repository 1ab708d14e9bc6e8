package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/testenv"
)

// ExternalDNSVersion is the external-dns release hack/tools/externaldns
// builds into bin/external-dns-<version> (keep it in step with that go.mod
// and with testenv.ExternalDNSModule, whose DNSEndpoint CRD is installed).
const ExternalDNSVersion = "v0.22.0"

const (
	// ExternalDNSNamespace holds external-dns' ServiceAccount.
	ExternalDNSNamespace = "external-dns"
	// ExternalDNSUser is that ServiceAccount: external-dns authenticates as
	// it and has exactly the permissions of its ClusterRole, as in a Pod.
	ExternalDNSUser = "system:serviceaccount:" + ExternalDNSNamespace + ":external-dns"
	// externalDNSAddr serves external-dns' /healthz, /metrics and the
	// inmemory zone (/records), on loopback inside the namespace.
	externalDNSAddr = "127.0.0.1:7979"
	// ExternalDNSOwnerID is external-dns' --txt-owner-id: the TXT registry
	// marks the records it owns with it.
	ExternalDNSOwnerID = "pylon-localcluster"
)

// DNSZones are the zones external-dns' inmemory provider holds and its
// domain filter: the domains of every hostname the end-to-end tests and the
// demo use. A hostname outside them gets no record.
var DNSZones = []string{"e2e.test", "demo.test"}

// ExternalDNS is the real external-dns (sigs.k8s.io/external-dns, built by
// hack/tools/externaldns) running as a process of the harness: the crd
// source (DNSEndpoint), the TXT registry and the inmemory provider.
type ExternalDNS struct {
	*Process
	// URL is the base URL of its HTTP listener (/records, /healthz, /metrics).
	URL string
}

// DNSRecord is one record of external-dns' inmemory zone, as its /records
// view shows it.
type DNSRecord struct {
	DNSName       string            `json:"dnsName"`
	RecordType    string            `json:"recordType"`
	Targets       []string          `json:"targets"`
	TTL           int64             `json:"ttl,omitempty"`
	SetIdentifier string            `json:"setIdentifier,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// ExternalDNSCRD is the DNSEndpoint CRD file of the pinned external-dns
// module (from the Go module cache).
func ExternalDNSCRD(repoRoot string) (string, error) {
	paths, err := testenv.CRDPaths(repoRoot, testenv.Options{ExternalDNS: true})
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "dnsendpoints.externaldns.k8s.io.yaml") {
			return p, nil
		}
	}
	return "", errors.New("no DNSEndpoint CRD among " + strings.Join(paths, ", "))
}

// externalDNSRules are what upstream's Helm chart grants the crd source.
var externalDNSRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints"}, Verbs: []string{"get", "watch", "list"}},
	{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints/status"}, Verbs: []string{"update"}},
}

// StartExternalDNS grants external-dns its RBAC and starts it with the crd
// source, watching DNSEndpoints in every namespace. The DNSEndpoint CRD must
// be installed (ExternalDNSCRD). It syncs every 2 seconds and on every
// DNSEndpoint change (at most once a second), so a record follows its
// DNSEndpoint within a few seconds.
func (c *Cluster) StartExternalDNS(ctx context.Context, bin string) (*ExternalDNS, error) {
	if err := c.grantExternalDNS(ctx); err != nil {
		return nil, err
	}
	kc, err := c.WriteKubeconfig(ExternalDNSUser, []string{"system:serviceaccounts", "system:serviceaccounts:" + ExternalDNSNamespace})
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + kc, "--provider=inmemory", "--source=crd",
		"--registry=txt", "--txt-owner-id=" + ExternalDNSOwnerID, "--policy=sync",
		"--interval=2s", "--events", "--min-event-sync-interval=1s",
		"--metrics-address=" + externalDNSAddr, "--log-level=info",
	}
	for _, z := range DNSZones {
		args = append(args, "--domain-filter="+z, "--inmemory-zone="+z)
	}
	e := &ExternalDNS{
		Process: &Process{Name: "external-dns", Path: bin, Args: args, LogPath: c.logPath("external-dns")},
		URL:     "http://" + externalDNSAddr,
	}
	if err := e.Start(); err != nil {
		return nil, err
	}
	if err := e.waitHealthy(ctx); err != nil {
		_ = e.Stop(5 * time.Second)
		return nil, err
	}
	return e, nil
}

func (c *Cluster) grantExternalDNS(ctx context.Context) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ExternalDNSNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ExternalDNSNamespace, Name: "external-dns"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "external-dns"}, Rules: externalDNSRules},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "external-dns"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "external-dns"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ExternalDNSNamespace, Name: "external-dns"}},
		},
	}
	for _, o := range objs {
		if err := c.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("external-dns rbac: %w", err)
		}
	}
	return nil
}

func (e *ExternalDNS) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/healthz: %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("external-dns not healthy (log: %s): %w", e.LogPath, last)
		case <-e.Exited():
			return fmt.Errorf("external-dns exited (log: %s)", e.LogPath)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Records reads the records external-dns' inmemory provider holds: what it
// published. It fails while the process is paused.
func (e *ExternalDNS) Records(ctx context.Context) ([]DNSRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/records", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("external-dns /records: %s", resp.Status)
	}
	var out []DNSRecord
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("external-dns /records: %w", err)
	}
	return out, nil
}

// Pause stops external-dns where it is (SIGSTOP to its process group), as a
// hung or throttled external-dns would be: it neither reads DNSEndpoints
// nor writes their status until Resume.
func (e *ExternalDNS) Pause() error { return e.signal(syscall.SIGSTOP) }

// Resume lets a paused external-dns go on (SIGCONT).
func (e *ExternalDNS) Resume() error { return e.signal(syscall.SIGCONT) }

func (e *ExternalDNS) signal(sig syscall.Signal) error {
	e.mu.Lock()
	cmd := e.cmd
	e.mu.Unlock()
	if cmd == nil {
		return errors.New(e.Name + " is not running")
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// PublishWithDNSEndpoints sets an ExposureClass to DNSEndpoint mode: Pylon
// then writes a DNSEndpoint per WebApp hostname, which external-dns
// publishes.
func (c *Cluster) PublishWithDNSEndpoints(ctx context.Context, class string, ttl int64) error {
	ec := &pylonv1alpha1.ExposureClass{}
	if err := c.Client.Get(ctx, client.ObjectKey{Name: class}, ec); err != nil {
		return err
	}
	before := ec.DeepCopy()
	ec.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSEndpoint, TTL: ttl}
	if err := c.Client.Patch(ctx, ec, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("set ExposureClass %s to DNSEndpoint mode: %w", class, err)
	}
	return nil
}

// externalDNSBin is where `make external-dns` puts the binary.
func externalDNSBin(root string) string {
	return filepath.Join(root, "bin", "external-dns-"+ExternalDNSVersion)
}
