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
	// ExternalDNSNamespace holds external-dns' ServiceAccounts: each
	// instance authenticates as its own and has exactly the permissions of
	// its ClusterRole, as in a Pod.
	ExternalDNSNamespace = "external-dns"
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

// ExternalDNSOptions configure one external-dns instance. The zero value
// (but Bin) is the instance the local cluster runs for DNSEndpoints.
type ExternalDNSOptions struct {
	// Bin is the external-dns binary (make external-dns).
	Bin string
	// Name names the process, its log, its ServiceAccount (in
	// ExternalDNSNamespace) and ClusterRole, and its TXT owner ID;
	// default "external-dns" (owner ExternalDNSOwnerID).
	Name string
	// Addr is its HTTP listener (/records, /healthz, /metrics); default
	// 127.0.0.1:7979.
	Addr string
	// Sources are its --source flags; default crd. crd, gateway-httproute
	// and ingress get the RBAC upstream's chart gives them.
	Sources []string
	// Zones are its zones and domain filter; default DNSZones.
	Zones []string
}

// externalDNSRules are what upstream's Helm chart grants each source.
var externalDNSRules = map[string][]rbacv1.PolicyRule{
	"crd": {
		{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints"}, Verbs: []string{"get", "watch", "list"}},
		{APIGroups: []string{"externaldns.k8s.io"}, Resources: []string{"dnsendpoints/status"}, Verbs: []string{"update"}},
	},
	"gateway-httproute": {
		{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"gateways", "httproutes"}, Verbs: []string{"get", "watch", "list"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "watch", "list"}},
	},
	"ingress": {
		{APIGroups: []string{"extensions", "networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: []string{"get", "watch", "list"}},
	},
}

// StartExternalDNS grants an external-dns instance its RBAC and starts it
// (by default with the crd source, watching DNSEndpoints in every namespace;
// the DNSEndpoint CRD must be installed, see ExternalDNSCRD). It syncs every
// 2 seconds and on every change of what its sources watch (at most once a
// second), so a record follows its source within a few seconds.
func (c *Cluster) StartExternalDNS(ctx context.Context, o ExternalDNSOptions) (*ExternalDNS, error) {
	owner := ExternalDNSOwnerID
	if o.Name == "" {
		o.Name = "external-dns"
	} else {
		owner += "-" + o.Name
	}
	if o.Addr == "" {
		o.Addr = externalDNSAddr
	}
	if len(o.Sources) == 0 {
		o.Sources = []string{"crd"}
	}
	if len(o.Zones) == 0 {
		o.Zones = DNSZones
	}
	if err := c.grantExternalDNS(ctx, o.Name, o.Sources); err != nil {
		return nil, err
	}
	user := "system:serviceaccount:" + ExternalDNSNamespace + ":" + o.Name
	kc, err := c.WriteKubeconfig(user, []string{"system:serviceaccounts", "system:serviceaccounts:" + ExternalDNSNamespace})
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + kc, "--provider=inmemory",
		"--registry=txt", "--txt-owner-id=" + owner, "--policy=sync",
		"--interval=2s", "--events", "--min-event-sync-interval=1s",
		"--metrics-address=" + o.Addr, "--log-level=info",
	}
	for _, src := range o.Sources {
		args = append(args, "--source="+src)
	}
	for _, z := range o.Zones {
		args = append(args, "--domain-filter="+z, "--inmemory-zone="+z)
	}
	e := &ExternalDNS{
		Process: &Process{Name: o.Name, Path: o.Bin, Args: args, LogPath: c.logPath(o.Name)},
		URL:     "http://" + o.Addr,
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

func (c *Cluster) grantExternalDNS(ctx context.Context, name string, sources []string) error {
	var rules []rbacv1.PolicyRule
	for _, src := range sources {
		r, ok := externalDNSRules[src]
		if !ok {
			return fmt.Errorf("external-dns source %q: the local cluster knows no RBAC for it", src)
		}
		rules = append(rules, r...)
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ExternalDNSNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ExternalDNSNamespace, Name: name}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ExternalDNSNamespace, Name: name}},
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
