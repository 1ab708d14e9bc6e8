package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// scrapeGateway returns the first gateway replica's /metrics text (its
// admin endpoint, as the local cluster binds it).
func scrapeGateway(g Gomega) string {
	return scrape(g, "http://"+localcluster.GatewayAdminAddress(0)+"/metrics")
}

// scrapeManager returns the manager process's /metrics text (plain HTTP on
// loopback in the local cluster).
func scrapeManager(g Gomega) string { return scrape(g, "http://127.0.0.1:8080/metrics") }

func scrape(g Gomega, url string) string {
	res, err := http.Get(url)
	g.Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	g.Expect(res.StatusCode).To(Equal(http.StatusOK))
	b, err := io.ReadAll(res.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// The real gateway binary labels a WebApp's route series with the route's
// namespace and name and says which build it is; the real manager binary
// reports the WebApp's conditions, its reconciles and claims; once the
// WebApp (and so its HTTPRoute) is deleted, neither has a series of it left.
func TestGatewayRouteSeries(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "metrics")
	app, url := servingApp(t, ns, "metered", "metered.e2e.test", nil)
	route := regexp.MustCompile(`(?m)^pylon_gateway_requests_total\{code="2xx",kind="HTTPRoute",name="([^"]+)",namespace="` + regexp.QuoteMeta(ns) + `"\} ([0-9]+)$`)
	g.Eventually(func(g Gomega) {
		// Each request on a connection of its own: the replicas share the
		// address, so one scraped here serves some of them.
		for range 3 {
			_, err := do(gatewayClient(), http.MethodGet, url, nil)
			g.Expect(err).NotTo(HaveOccurred())
		}
		m := route.FindStringSubmatch(scrapeGateway(g))
		g.Expect(m).NotTo(BeNil(), "no 2xx series of an HTTPRoute in %s", ns)
		g.Expect(m[1]).To(HavePrefix("metered"))
		g.Expect(m[2]).NotTo(Equal("0"))
	}).WithTimeout(readyTimeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	text := scrapeGateway(g)
	g.Expect(text).To(MatchRegexp(`(?m)^pylon_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1$`))
	g.Expect(text).To(MatchRegexp(`(?m)^pylon_gateway_backend_requests_total\{backend="metered[^"]*",backend_namespace="` + regexp.QuoteMeta(ns) + `",code="2xx",kind="HTTPRoute",name="metered[^"]*",namespace="` + regexp.QuoteMeta(ns) + `",origin="backend"\} [1-9]`))

	// The manager's binary: the WebApp's conditions and its build.
	g.Eventually(func(g Gomega) {
		text := scrapeManager(g)
		g.Expect(text).To(MatchRegexp(`(?m)^pylon_webapp_condition\{condition="Ready",name="metered",namespace="` + regexp.QuoteMeta(ns) + `",reason="[A-Za-z]+",status="True"\} 1$`))
		g.Expect(text).To(MatchRegexp(`(?m)^pylon_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1$`))
		g.Expect(text).To(MatchRegexp(`(?m)^pylon_webapp_reconciles_total\{reason="[A-Za-z]+",result="success"\} [1-9]`))
		g.Expect(text).To(MatchRegexp(`(?m)^pylon_hostname_claims\{state="held"\} [1-9]`))
	}).WithTimeout(readyTimeout).WithPolling(200 * time.Millisecond).Should(Succeed())

	g.Expect(env.Client.Delete(context.Background(), app)).To(Succeed())
	left := func(text, prefix string) []string {
		var out []string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, `namespace="`+ns+`"`) {
				out = append(out, l)
			}
		}
		return out
	}
	g.Eventually(func(g Gomega) []string {
		return append(left(scrapeGateway(g), "pylon_gateway_"), left(scrapeManager(g), "pylon_webapp_condition")...)
	}).WithTimeout(readyTimeout).WithPolling(200*time.Millisecond).Should(BeEmpty(), "series of the deleted WebApp and its route")
}

// The gateway's certificate expiry series is the notAfter of the
// certificate a client is really offered, under the Secret's namespace and
// name, and goes away with the listener that served it.
func TestGatewayCertificateExpiry(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-tls-metrics"},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "pylon", Namespace: "pylon-system", HTTPListener: "http"},
			TLS:     &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer"}},
		},
	}
	g.Expect(env.Client.Create(ctx, class)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })
	ns := newNamespace(t, "cert-metrics")
	app := newWebApp(ns, "certified", "certified.e2e.test")
	app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class.Name}
	app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: &pylonv1alpha1.IssuerReference{Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer"}}
	g.Expect(env.Client.Create(ctx, app)).To(Succeed())
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	waitServing(t, "https://certified.e2e.test/", ns)

	// What a client is offered.
	var notAfter time.Time
	g.Eventually(func(g Gomega) {
		res, err := gatewayClient().Get("https://certified.e2e.test/")
		g.Expect(err).NotTo(HaveOccurred())
		_ = res.Body.Close()
		g.Expect(res.TLS).NotTo(BeNil())
		notAfter = res.TLS.PeerCertificates[0].NotAfter
	}).WithTimeout(readyTimeout).WithPolling(200 * time.Millisecond).Should(Succeed())

	expiry := regexp.MustCompile(`(?m)^pylon_gateway_certificate_expiry_timestamp_seconds\{name="([^"]+)",namespace="` + regexp.QuoteMeta(ns) + `"\} (\S+)$`)
	g.Eventually(func(g Gomega) {
		m := expiry.FindAllStringSubmatch(scrapeGateway(g), -1)
		g.Expect(m).To(HaveLen(1), "one served Secret in %s", ns)
		v, err := strconv.ParseFloat(m[0][2], 64)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(int64(v)).To(Equal(notAfter.Unix()), "the served certificate's notAfter %s", notAfter)
	}).WithTimeout(readyTimeout).WithPolling(200 * time.Millisecond).Should(Succeed())

	g.Expect(env.Client.Delete(ctx, app)).To(Succeed())
	g.Eventually(func(g Gomega) [][]string {
		return expiry.FindAllStringSubmatch(scrapeGateway(g), -1)
	}).WithTimeout(readyTimeout).WithPolling(200*time.Millisecond).Should(BeEmpty(), "the deleted WebApp's certificate is not served any more")
}
