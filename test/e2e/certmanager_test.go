package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/echo"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// cmClass creates an ExposureClass on the bundled gateway whose issuer is
// the local cluster's CA ClusterIssuer and which also allows extra issuers.
func cmClass(t *testing.T, name string, allowed ...pylonv1alpha1.IssuerReference) string {
	t.Helper()
	return cmClassWith(t, name, func(c *pylonv1alpha1.ExposureClassTLS) { c.AllowedIssuers = allowed })
}

// cmClassWith creates an ExposureClass on the bundled gateway whose issuer
// is the local cluster's CA ClusterIssuer, its TLS settings changed by set.
func cmClassWith(t *testing.T, name string, set func(*pylonv1alpha1.ExposureClassTLS)) string {
	t.Helper()
	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "pylon", Namespace: localcluster.SystemNamespace, HTTPListener: "http"},
			TLS: &pylonv1alpha1.ExposureClassTLS{
				IssuerRef: &pylonv1alpha1.IssuerReference{Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer"},
			},
		},
	}
	set(class.Spec.TLS)
	NewWithT(t).Expect(env.Client.Create(context.Background(), class)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })
	return name
}

// tlsAutoApp creates a TLS Auto WebApp of class, with the class's issuer
// unless issuer names another.
func tlsAutoApp(t *testing.T, ns, name, host, class string, issuer *pylonv1alpha1.IssuerReference) *pylonv1alpha1.WebApp {
	t.Helper()
	app := newWebApp(ns, name, host)
	app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
	app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: issuer}
	NewWithT(t).Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	return app
}

// certificateOf reads the WebApp's cert-manager Certificate.
func certificateOf(g Gomega, app *pylonv1alpha1.WebApp) *cmv1.Certificate {
	crt := &cmv1.Certificate{}
	g.ExpectWithOffset(1, env.Client.Get(context.Background(), client.ObjectKey{Namespace: app.Namespace, Name: app.Name}, crt)).To(Succeed())
	return crt
}

// requestsOf lists the CertificateRequests cert-manager made for a
// Certificate, by revision.
func requestsOf(g Gomega, crt *cmv1.Certificate) map[string]*cmv1.CertificateRequest {
	list := &cmv1.CertificateRequestList{}
	g.ExpectWithOffset(1, env.Client.List(context.Background(), list, client.InNamespace(crt.Namespace))).To(Succeed())
	out := map[string]*cmv1.CertificateRequest{}
	for i := range list.Items {
		cr := &list.Items[i]
		if cr.Annotations[cmv1.CertificateNameKey] == crt.Name {
			out[cr.Annotations[cmv1.CertificateRequestRevisionAnnotationKey]] = cr
		}
	}
	return out
}

func crCondition(cr *cmv1.CertificateRequest, t cmv1.CertificateRequestConditionType) *cmv1.CertificateRequestCondition {
	for i := range cr.Status.Conditions {
		if cr.Status.Conditions[i].Type == t {
			return &cr.Status.Conditions[i]
		}
	}
	return nil
}

// expectIssuedRequest: the revision's CertificateRequest exists, was
// approved by cert-manager's approver and signed (Ready, Issued).
func expectIssuedRequest(g Gomega, crt *cmv1.Certificate, revision string) *cmv1.CertificateRequest {
	cr := requestsOf(g, crt)[revision]
	g.ExpectWithOffset(1, cr).NotTo(BeNil(), "CertificateRequest of revision %s of Certificate %s", revision, crt.Name)
	approved := crCondition(cr, cmv1.CertificateRequestConditionApproved)
	g.ExpectWithOffset(1, approved).NotTo(BeNil(), "Approved condition of %s", cr.Name)
	g.ExpectWithOffset(1, approved.Status).To(Equal(cmmeta.ConditionTrue), "Approved of %s: %s", cr.Name, approved.Message)
	ready := crCondition(cr, cmv1.CertificateRequestConditionReady)
	g.ExpectWithOffset(1, ready).NotTo(BeNil(), "Ready condition of %s", cr.Name)
	g.ExpectWithOffset(1, ready.Status).To(Equal(cmmeta.ConditionTrue), "Ready of %s: %s", cr.Name, ready.Message)
	g.ExpectWithOffset(1, ready.Reason).To(Equal(cmv1.CertificateRequestReasonIssued))
	return cr
}

// leafOfSecret parses the leaf certificate of a kubernetes.io/tls Secret.
func leafOfSecret(s *corev1.Secret) (*x509.Certificate, error) {
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		return nil, fmt.Errorf("secret %s/%s holds no certificate", s.Namespace, s.Name)
	}
	return x509.ParseCertificate(block.Bytes)
}

// tlsConfig trusts only roots and names host for SNI and verification.
func tlsConfig(roots *x509.Certificate, host string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(roots)
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
}

// dialGateway opens a verified TLS connection to the gateway's HTTPS
// listener for host.
func dialGateway(cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return tls.DialWithDialer(d, "tcp", net.JoinHostPort(localcluster.GatewayAddress, "443"), cfg)
}

// getOn sends one GET over an open HTTP/1.1 connection and decodes the
// echo answer; any non-200 answer is an error.
func getOn(conn net.Conn, br *bufio.Reader, host, path string) (echo.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, "https://"+host+path, nil)
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return echo.Response{}, err
	}
	if err := req.Write(conn); err != nil {
		return echo.Response{}, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return echo.Response{}, fmt.Errorf("read response: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return echo.Response{}, fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return echo.Response{}, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var e echo.Response
	if err := json.Unmarshal(body, &e); err != nil {
		return echo.Response{}, fmt.Errorf("decode echo answer: %w", err)
	}
	return e, nil
}

// servedLeaf makes one request on a new connection and returns the leaf
// certificate the gateway presented and the echo answer.
func servedLeaf(cfg *tls.Config, host string) (*x509.Certificate, echo.Response, error) {
	conn, err := dialGateway(cfg)
	if err != nil {
		return nil, echo.Response{}, err
	}
	defer func() { _ = conn.Close() }()
	e, err := getOn(conn, bufio.NewReader(conn), host, "/")
	return conn.ConnectionState().PeerCertificates[0], e, err
}

// TestCertManagerIssuesThroughCertificateRequests: a TLS Auto WebApp gets
// its certificate from the real cert-manager: a CertificateRequest that
// cert-manager's approver approved and its CA issuer signed; the gateway
// serves it for the hostname, chaining to the cluster's CA, and the answer
// comes from this WebApp's Pod.
func TestCertManagerIssuesThroughCertificateRequests(t *testing.T) {
	g := NewWithT(t)
	class := cmClass(t, "e2e-cm-issue")
	ns := newNamespace(t, "cm-issue")
	const host = "issued.e2e.test"
	app := tlsAutoApp(t, ns, "issued", host, class, nil)

	waitCondition(t, app, "CertificateReady", metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	crt := certificateOf(g, app)
	g.Expect(crt.Spec.IssuerRef.Name).To(Equal(localcluster.ClusterIssuerName))
	g.Expect(crt.Status.Revision).NotTo(BeNil())
	g.Expect(*crt.Status.Revision).To(Equal(1))
	cr := expectIssuedRequest(g, crt, "1")
	t.Logf("CertificateRequest %s approved and issued", cr.Name)

	secret := &corev1.Secret{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: crt.Spec.SecretName}, secret)).To(Succeed())
	issued, err := leafOfSecret(secret)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(issued.CheckSignatureFrom(env.CA.Cert)).To(Succeed(), "the issued certificate is signed by the ClusterIssuer's CA")
	g.Expect(issued.DNSNames).To(Equal([]string{host}))

	cfg := tlsConfig(env.CA.Cert, host)
	g.Eventually(func(g Gomega) {
		leaf, e, err := servedLeaf(cfg, host)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(leaf.SerialNumber).To(Equal(issued.SerialNumber), "the gateway serves the Secret's certificate")
		g.Expect(e.Namespace).To(Equal(ns))
		g.Expect(e.Pod).To(HavePrefix("issued-"))
		g.Expect(e.Host).To(Equal(host))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// rotationLoad is HTTPS traffic across a certificate rotation: clients on
// new connections (one handshake per request) and clients holding one
// connection each.
type rotationLoad struct {
	cfg  *tls.Config
	host string
	ns   string
	pod  string
	old  *big.Int

	requests, failures, handshakeFailures atomic.Int64
	mu                                    sync.Mutex
	errs                                  []string
	// firstNew is when the first handshake presenting a certificate other
	// than old completed; oldAfterNew counts handshakes that started after
	// that and still got the old certificate (the swap is not atomic).
	firstNew    time.Time
	oldAfterNew int
	newServed   int
	keptAlive   []*keptAlive
}

// keptAlive is one connection held across the rotation.
type keptAlive struct {
	before, after atomic.Int64 // requests before and after the Secret changed
}

func (l *rotationLoad) fail(handshake bool, format string, args ...any) {
	if handshake {
		l.handshakeFailures.Add(1)
	} else {
		l.failures.Add(1)
	}
	l.mu.Lock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
	l.mu.Unlock()
}

func (l *rotationLoad) checkEcho(e echo.Response) error {
	if e.Namespace != l.ns || len(e.Pod) < len(l.pod) || e.Pod[:len(l.pod)] != l.pod {
		return fmt.Errorf("answered by %s/%s, want a Pod %s* of %s", e.Namespace, e.Pod, l.pod, l.ns)
	}
	return nil
}

// newConnections sends requests on a new connection each until ctx ends.
func (l *rotationLoad) newConnections(ctx context.Context) {
	for ctx.Err() == nil {
		start := time.Now()
		conn, err := dialGateway(l.cfg)
		if err != nil {
			l.requests.Add(1)
			l.fail(true, "handshake: %v", err)
			continue
		}
		serial := conn.ConnectionState().PeerCertificates[0].SerialNumber
		done := time.Now()
		l.mu.Lock()
		if serial.Cmp(l.old) != 0 {
			l.newServed++
			if l.firstNew.IsZero() || done.Before(l.firstNew) {
				l.firstNew = done
			}
		} else if !l.firstNew.IsZero() && start.After(l.firstNew) {
			l.oldAfterNew++
		}
		l.mu.Unlock()
		e, err := getOn(conn, bufio.NewReader(conn), l.host, "/new")
		l.requests.Add(1)
		if err == nil {
			err = l.checkEcho(e)
		}
		if err != nil {
			l.fail(false, "new connection: %v", err)
		}
		_ = conn.Close()
	}
}

// keepAlive opens one connection and sends requests on it until ctx ends;
// changed says whether the Secret has changed yet.
func (l *rotationLoad) keepAlive(ctx context.Context, ka *keptAlive, changed func() bool, ready chan<- error) {
	conn, err := dialGateway(l.cfg)
	ready <- err
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	br := bufio.NewReader(conn)
	for ctx.Err() == nil {
		after := changed()
		e, err := getOn(conn, br, l.host, "/kept")
		l.requests.Add(1)
		if err == nil {
			err = l.checkEcho(e)
		}
		if err != nil {
			l.fail(false, "kept-alive connection: %v", err)
			return // the connection is gone: it did not keep working
		}
		if after {
			ka.after.Add(1)
		} else {
			ka.before.Add(1)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// leafChange is a certificate cert-manager wrote to a Secret, and when the
// test saw it there.
type leafChange struct {
	leaf *x509.Certificate
	at   time.Time
}

// watchLeaves reports every change of the certificate in a Secret after
// resourceVersion rv whose serial differs from the one before it.
func watchLeaves(ctx context.Context, g Gomega, ns, name, rv string, last *x509.Certificate) <-chan leafChange {
	w, err := env.Clientset.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: rv,
	})
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	out := make(chan leafChange, 64)
	go func() {
		defer close(out)
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*corev1.Secret)
			if !ok || ev.Type != watch.Modified {
				continue
			}
			if leaf, err := leafOfSecret(s); err == nil && leaf.SerialNumber.Cmp(last.SerialNumber) != 0 {
				last = leaf
				select {
				case out <- leafChange{leaf: leaf, at: time.Now()}:
				default:
				}
			}
		}
	}()
	return out
}

// TestCertManagerRenewalUnderLoad: cert-manager renews a WebApp's
// certificate on its own schedule while clients keep sending HTTPS
// requests, some on a new connection each time, some on connections kept
// open across the renewal. The ExposureClass sets duration 1h (cert-
// manager's minimum) and renewBefore 59m50s, so cert-manager's trigger
// controller renews about 10 s after each issuance (renewal time = notAfter
// - renewBefore); the test writes nothing to the Certificate. The gateway
// must serve the new certificate to new connections within seconds, not
// one request or handshake may fail, the kept-alive connections keep
// working, and CertificateReady stays True throughout.
func TestCertManagerRenewalUnderLoad(t *testing.T) {
	g := NewWithT(t)
	const duration, renewBefore = time.Hour, 59*time.Minute + 50*time.Second
	class := cmClassWith(t, "e2e-cm-renew", func(c *pylonv1alpha1.ExposureClassTLS) {
		c.Duration = &metav1.Duration{Duration: duration}
		c.RenewBefore = &metav1.Duration{Duration: renewBefore}
	})
	ns := newNamespace(t, "cm-renew")
	const host = "renew.e2e.test"
	app := tlsAutoApp(t, ns, "renew", host, class, nil)
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	crt := certificateOf(g, app)
	// Pylon copied the class's lifetime into the Certificate.
	g.Expect(crt.Spec.Duration).To(Equal(&metav1.Duration{Duration: duration}))
	g.Expect(crt.Spec.RenewBefore).To(Equal(&metav1.Duration{Duration: renewBefore}))
	secret := &corev1.Secret{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: crt.Spec.SecretName}, secret)).To(Succeed())
	firstLeaf, err := leafOfSecret(secret)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(firstLeaf.NotAfter.Sub(firstLeaf.NotBefore)).To(BeNumerically("~", duration, time.Minute), "the issued certificate lasts the class's duration")

	// Record every Issuing condition cert-manager sets, to show the renewals
	// are its own time-based ones (reason Renewing), not manual triggers.
	cw, err := client.NewWithWatch(env.Admin, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	crtWatch, err := cw.Watch(wctx, &cmv1.CertificateList{}, client.InNamespace(ns))
	g.Expect(err).NotTo(HaveOccurred())
	var issuingMu sync.Mutex
	issuingReasons := map[string]int{}
	go func() {
		seen := map[string]bool{}
		for ev := range crtWatch.ResultChan() {
			c, ok := ev.Object.(*cmv1.Certificate)
			if !ok || c.Name != crt.Name {
				continue
			}
			for _, cond := range c.Status.Conditions {
				if cond.Type == cmv1.CertificateConditionIssuing && cond.Status == cmmeta.ConditionTrue && cond.LastTransitionTime != nil {
					if k := cond.LastTransitionTime.String() + cond.Reason; !seen[k] {
						seen[k] = true
						issuingMu.Lock()
						issuingReasons[cond.Reason]++
						issuingMu.Unlock()
					}
				}
			}
		}
	}()

	// Wait for a first renewal by cert-manager itself: the next one is then
	// about 10 s away, time enough to start the load and a steady-state
	// window before it.
	leaves := watchLeaves(wctx, g, ns, secret.Name, secret.ResourceVersion, firstLeaf)
	var first leafChange
	g.Eventually(leaves).WithTimeout(90*time.Second).Should(Receive(&first), "cert-manager renews the certificate by itself (renewBefore %s of a %s lifetime)", renewBefore, duration)
	oldLeaf := first.leaf
	renewalDue := oldLeaf.NotAfter.Add(-renewBefore)
	t.Logf("first time-based renewal seen %s after the first certificate's renewal time; the next is due at notAfter-renewBefore = %s (in %s)",
		first.at.Sub(firstLeaf.NotAfter.Add(-renewBefore)).Round(time.Millisecond), renewalDue.Format(time.RFC3339), time.Until(renewalDue).Round(time.Millisecond))

	load := &rotationLoad{cfg: tlsConfig(env.CA.Cert, host), host: host, ns: ns, pod: "renew-", old: oldLeaf.SerialNumber}
	// The gateway serves the renewed certificate before the load starts.
	g.Eventually(func(g Gomega) {
		leaf, _, err := servedLeaf(load.cfg, host)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(leaf.SerialNumber).To(Equal(oldLeaf.SerialNumber))
	}).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).Should(Succeed(), "the gateway serves the first renewed certificate within 5 s")

	// The measured renewal: the next change of the Secret.
	var secretChanged atomic.Pointer[time.Time]
	var newLeaf atomic.Pointer[x509.Certificate]
	go func() {
		for c := range leaves {
			if secretChanged.Load() == nil {
				newLeaf.Store(c.leaf)
				secretChanged.Store(&c.at)
			}
		}
	}()

	// CertificateReady must stay True through the renewal.
	var notReady atomic.Pointer[metav1.Condition]
	lctx, lcancel := context.WithCancel(context.Background())
	defer lcancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for lctx.Err() == nil {
			cur := &pylonv1alpha1.WebApp{}
			if err := env.Client.Get(lctx, client.ObjectKeyFromObject(app), cur); err == nil {
				if c := condition(cur, "CertificateReady"); c != nil && c.Status != metav1.ConditionTrue {
					notReady.CompareAndSwap(nil, c)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	const newConnClients, keptAliveClients = 4, 2
	for range newConnClients {
		wg.Go(func() { load.newConnections(lctx) })
	}
	opened := make(chan error, keptAliveClients)
	for range keptAliveClients {
		ka := &keptAlive{}
		load.keptAlive = append(load.keptAlive, ka)
		wg.Go(func() { load.keepAlive(lctx, ka, func() bool { return secretChanged.Load() != nil }, opened) })
	}
	for range keptAliveClients {
		g.Expect(<-opened).To(Succeed())
	}
	// A steady-state window before the event.
	time.Sleep(time.Second)
	before := load.requests.Load()
	windowEnd := time.Now()
	if c := secretChanged.Load(); c != nil {
		t.Fatalf("cert-manager renewed at %s, before the load's steady-state window ended at %s; the measurement would not start before the event", c.Format(time.RFC3339Nano), windowEnd.Format(time.RFC3339Nano))
	}

	// No trigger: cert-manager renews when the renewal time comes.
	g.Eventually(secretChanged.Load).WithTimeout(60*time.Second).WithPolling(50*time.Millisecond).
		ShouldNot(BeNil(), "cert-manager renews the certificate by itself and writes it to the Secret")
	changedAt := *secretChanged.Load()
	g.Eventually(func() bool {
		load.mu.Lock()
		defer load.mu.Unlock()
		return !load.firstNew.IsZero()
	}).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(BeTrue(), "the gateway serves the renewed certificate to new connections within 5 s of the Secret changing")
	// Keep the load on for a while after the switch, then stop.
	time.Sleep(2 * time.Second)
	lcancel()
	wg.Wait()

	load.mu.Lock()
	firstNew, oldAfterNew, newServed, errs := load.firstNew, load.oldAfterNew, load.newServed, load.errs
	load.mu.Unlock()
	total, failed, hsFailed := load.requests.Load(), load.failures.Load(), load.handshakeFailures.Load()
	t.Logf("rotation: new certificate served %s after the test saw the Secret change (negative: the gateway saw it first; Secret changed %s after the renewal time notAfter-renewBefore); %d failed of %d requests (%d in the steady-state window before), %d failed handshakes; %d handshakes got a renewed certificate, %d got the old one after the first new one",
		firstNew.Sub(changedAt).Round(time.Millisecond), changedAt.Sub(renewalDue).Round(time.Millisecond), failed, total, before, hsFailed, newServed, oldAfterNew)
	for _, e := range errs {
		t.Log("  ", e)
	}
	g.Expect(failed).To(BeZero(), "failed requests")
	g.Expect(hsFailed).To(BeZero(), "failed handshakes")
	// New connections get a renewed certificate, not the old one: the one
	// the Secret held first after the old one, or (cert-manager renews every
	// ~10 s) a later one the Secret holds now. (oldAfterNew is only
	// reported: with several gateway replicas each swaps on its own.)
	for range 10 {
		leaf, e, err := servedLeaf(load.cfg, host)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(leaf.SerialNumber).NotTo(Equal(oldLeaf.SerialNumber), "a new connection gets a renewed certificate")
		g.Expect(leaf.CheckSignatureFrom(env.CA.Cert)).To(Succeed())
		g.Expect(leaf.NotBefore).NotTo(BeTemporally("<", newLeaf.Load().NotBefore.Add(-time.Second)), "a new connection gets the renewed certificate or a later one")
		g.Expect(load.checkEcho(e)).To(Succeed())
	}
	for i, ka := range load.keptAlive {
		t.Logf("kept-alive connection %d: %d requests before the Secret changed, %d after", i, ka.before.Load(), ka.after.Load())
		g.Expect(ka.before.Load()).To(BeNumerically(">", 0))
		g.Expect(ka.after.Load()).To(BeNumerically(">", 0), "kept-alive connection %d keeps working after the renewal", i)
	}
	if c := notReady.Load(); c != nil {
		t.Fatalf("CertificateReady left True during the renewal: %s %s: %s", c.Status, c.Reason, c.Message)
	}

	// cert-manager's own record: the Certificate's revision went up by
	// itself past the first renewal, the current revision's
	// CertificateRequest approved and issued, and every Issuing condition had reason Renewing
	// (time-based; a manual trigger would say ManuallyTriggered).
	g.Eventually(func(g Gomega) {
		cur := certificateOf(g, app)
		g.Expect(cur.Status.Revision).NotTo(BeNil())
		g.Expect(*cur.Status.Revision).To(BeNumerically(">=", 3))
		expectIssuedRequest(g, cur, strconv.Itoa(*cur.Status.Revision))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	g.Expect(newLeaf.Load().CheckSignatureFrom(env.CA.Cert)).To(Succeed())
	issuingMu.Lock()
	reasons := maps.Clone(issuingReasons)
	issuingMu.Unlock()
	t.Logf("Issuing conditions seen on the Certificate, by reason: %v; revision now %d", reasons, *certificateOf(g, app).Status.Revision)
	// The revision rising past the first renewal while the test writes
	// nothing to the Certificate is the proof that cert-manager renewed on
	// its own; the Issuing reasons the watch caught are a second witness
	// (one run of the full suite saw none at all, cause not found), so they
	// must never say ManuallyTriggered and, when any was seen, must include
	// Renewing.
	g.Expect(reasons).NotTo(HaveKey("ManuallyTriggered"))
	if len(reasons) > 0 {
		g.Expect(reasons).To(HaveKey("Renewing"), "cert-manager's trigger renewed because the renewal time had come")
	}
	waitCondition(t, app, "CertificateReady", metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
}

// TestCertificateReadyFollowsFailingIssuer: a WebApp whose Issuer cannot
// sign (a CA Issuer whose Secret does not exist, so cert-manager reports
// it not Ready and leaves the CertificateRequest pending) gets
// CertificateReady=False with cert-manager's reason; once the Secret is
// created, cert-manager issues and the WebApp becomes Ready, served with a
// certificate of that Issuer's CA.
func TestCertificateReadyFollowsFailingIssuer(t *testing.T) {
	g := NewWithT(t)
	teamCA := pylonv1alpha1.IssuerReference{Name: "team-ca", Kind: "Issuer"}
	class := cmClass(t, "e2e-cm-failing", teamCA)
	ns := newNamespace(t, "cm-failing")
	issuer := &cmv1.Issuer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: teamCA.Name},
		Spec:       cmv1.IssuerSpec{IssuerConfig: cmv1.IssuerConfig{CA: &cmv1.CAIssuer{SecretName: "team-ca"}}},
	}
	g.Expect(env.Client.Create(context.Background(), issuer)).To(Succeed())
	const host = "failing.e2e.test"
	app := tlsAutoApp(t, ns, "failing", host, class, &teamCA)

	cur := waitCondition(t, app, "CertificateReady", metav1.ConditionFalse, "ErrGetKeyPair")
	msg := condition(cur, "CertificateReady").Message
	t.Logf("CertificateReady=False ErrGetKeyPair: %s", msg)
	g.Expect(msg).To(ContainSubstring("Issuer " + ns + "/team-ca is not ready"))
	g.Expect(msg).To(ContainSubstring(`secrets "team-ca" not found`))
	g.Expect(condition(cur, "Ready").Status).To(Equal(metav1.ConditionFalse))
	// cert-manager's side: the Issuer is not Ready, the request waits.
	g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(issuer), issuer)).To(Succeed())
	g.Expect(issuer.Status.Conditions).To(ContainElement(And(
		HaveField("Type", cmv1.IssuerConditionReady), HaveField("Status", cmmeta.ConditionFalse), HaveField("Reason", "ErrGetKeyPair"))))
	g.Eventually(func(g Gomega) {
		cr := requestsOf(g, certificateOf(g, app))["1"]
		g.Expect(cr).NotTo(BeNil())
		ready := crCondition(cr, cmv1.CertificateRequestConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(cmmeta.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(cmv1.CertificateRequestReasonPending))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	// Nothing is served for the hostname over HTTPS meanwhile.
	_, _, err := servedLeaf(tlsConfig(env.CA.Cert, host), host)
	g.Expect(err).To(HaveOccurred(), "no certificate is served before it is issued")

	// The platform team creates the CA Secret.
	ca, err := localcluster.NewCA("team-ca")
	g.Expect(err).NotTo(HaveOccurred())
	key, err := ca.KeyPEM()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Client.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-ca"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: ca.CertPEM, corev1.TLSPrivateKeyKey: key},
	})).To(Succeed())
	recovered := time.Now()

	waitCondition(t, app, "CertificateReady", metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	t.Logf("CertificateReady True %s after the CA Secret was created", time.Since(recovered).Round(time.Millisecond))
	expectIssuedRequest(g, certificateOf(g, app), "1")
	cfg := tlsConfig(ca.Cert, host)
	g.Eventually(func(g Gomega) {
		leaf, e, err := servedLeaf(cfg, host)
		g.Expect(err).NotTo(HaveOccurred(), "HTTPS verifies against the team's CA")
		g.Expect(leaf.CheckSignatureFrom(ca.Cert)).To(Succeed())
		g.Expect(e.Namespace).To(Equal(ns))
		g.Expect(e.Pod).To(HavePrefix("failing-"))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	_, _, err = servedLeaf(tlsConfig(env.CA.Cert, host), host)
	g.Expect(errors.As(err, new(*tls.CertificateVerificationError))).To(BeTrue(), "the certificate is the team CA's, not the cluster CA's: %v", err)
}
