package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/echo"
	"github.com/pylon-dev/pylon/test/localcluster"
)

const (
	stableImage = "registry.example.com/shop:1.0"
	canaryImage = "registry.example.com/shop:2.0"
	// readyTimeout bounds waits for the whole chain (Deployment, Pods,
	// EndpointSlices, route status, gateway table).
	readyTimeout = 90 * time.Second
)

// newNamespace creates a namespace for one test, deleted afterwards. It
// enforces the restricted Pod Security Standard, through the API server's
// own PodSecurity admission, as a hardened cluster's app namespaces do:
// every Pod Pylon creates must pass it.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   fmt.Sprintf("%s-%d", prefix, rand.IntN(1_000_000)),
		Labels: restrictedNamespaceLabels(),
	}}
	NewWithT(t).Expect(env.Client.Create(context.Background(), ns)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// restrictedNamespaceLabels make PodSecurity admission enforce the
// restricted level (at the API server's version) in a namespace.
func restrictedNamespaceLabels() map[string]string {
	return map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}
}

// restrictedPod is the part of a Pod spec the restricted Pod Security
// Standard requires, for Pods a test creates itself.
func restrictedPod(spec corev1.PodSpec) corev1.PodSpec {
	spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	for i := range spec.Containers {
		spec.Containers[i].SecurityContext = &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}
	}
	return spec
}

// newWebApp returns a WebApp serving the stable image on port 8080.
// servingApp creates WebApp name under host in ns (mutate may change its
// spec first), waits until it is Ready and answers through the gateway, and
// returns it with its plain-HTTP URL.
func servingApp(t *testing.T, ns, name, host string, mutate func(*pylonv1alpha1.WebApp)) (*pylonv1alpha1.WebApp, string) {
	t.Helper()
	url := "http://" + host + "/"
	app := newWebApp(ns, name, host)
	if mutate != nil {
		mutate(app)
	}
	NewWithT(t).Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	waitServing(t, url, ns)
	return app, url
}

func newWebApp(ns, name, host string) *pylonv1alpha1.WebApp {
	return &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: stableImage, Port: 8080, Replicas: ptr.To[int32](1), Hostname: host,
			ReadinessProbe: &pylonv1alpha1.ProbeSpec{Path: "/healthz", PeriodSeconds: 1},
		},
	}
}

// getApp reads a WebApp fresh.
func getApp(g Gomega, app *pylonv1alpha1.WebApp) *pylonv1alpha1.WebApp {
	cur := &pylonv1alpha1.WebApp{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(app), cur)).To(Succeed())
	return cur
}

// updateApp applies mutate to the current WebApp, retrying on conflicts.
func updateApp(t *testing.T, app *pylonv1alpha1.WebApp, mutate func(*pylonv1alpha1.WebApp)) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		cur := getApp(g, app)
		mutate(cur)
		g.Expect(env.Client.Update(context.Background(), cur)).To(Succeed())
	}).WithTimeout(10 * time.Second).Should(Succeed())
}

// condition returns a WebApp condition observed at its current generation.
func condition(app *pylonv1alpha1.WebApp, typ string) *metav1.Condition {
	c := meta.FindStatusCondition(app.Status.Conditions, typ)
	if c == nil || app.Status.ObservedGeneration != app.Generation {
		return nil
	}
	return c
}

// waitCondition waits until the WebApp's condition has status (and
// reason, when given) at its latest generation, and returns the WebApp.
func waitCondition(t *testing.T, app *pylonv1alpha1.WebApp, typ string, status metav1.ConditionStatus, reason string) *pylonv1alpha1.WebApp {
	t.Helper()
	var last *pylonv1alpha1.WebApp
	NewWithT(t).Eventually(func(g Gomega) {
		last = getApp(g, app)
		c := condition(last, typ)
		g.Expect(c).NotTo(BeNil(), "condition %s at generation %d; conditions %v", typ, last.Generation, last.Status.Conditions)
		g.Expect(c.Status).To(Equal(status), "%s: %s", c.Reason, c.Message)
		if reason != "" {
			g.Expect(c.Reason).To(Equal(reason), c.Message)
		}
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	return last
}

// gatewayClient sends every request to the gateway's address, whatever the
// URL's host: the host only goes into the Host header and SNI, as DNS
// pointing at the gateway would make it.
func gatewayClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(env.CA.Cert)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort(localcluster.GatewayAddress, port))
			},
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 64,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// result is one request's outcome through the gateway.
type result struct {
	Status int
	Header http.Header
	Echo   echo.Response
}

// do sends one request and decodes the echo answer when there is one.
func do(c *http.Client, method, url string, header map[string]string) (result, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return result{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return result{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("read body of %s: %w", url, err)
	}
	r := result{Status: resp.StatusCode, Header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &r.Echo)
	}
	return r, nil
}

// servingProbes is how many requests in a row, each on a connection of
// its own, waitServing wants answered: the kernel spreads connections over
// the gateway replicas, so one answer could come from a replica while the
// other has not yet programmed the route (the chance that 8 connections
// all reach the same one of two is 1 in 128).
const servingProbes = 8

// waitServing waits until url answers 200 from a Pod of the namespace,
// through every gateway replica as far as servingProbes can tell.
func waitServing(t *testing.T, url, ns string) result {
	t.Helper()
	c := gatewayClient()
	c.Transport.(*http.Transport).DisableKeepAlives = true
	var last result
	NewWithT(t).Eventually(func(g Gomega) {
		for range servingProbes {
			r, err := do(c, http.MethodGet, url, nil)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.Status).To(Equal(http.StatusOK))
			g.Expect(r.Echo.Namespace).To(Equal(ns))
			last = r
		}
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	return last
}

// split sends n requests and counts answers per image; any failure fails.
func split(g Gomega, url string, n int, header map[string]string) map[string]int {
	c := gatewayClient()
	counts := map[string]int{}
	for range n {
		r, err := do(c, http.MethodGet, url, header)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(r.Status).To(Equal(http.StatusOK))
		counts[r.Echo.Image]++
	}
	return counts
}
