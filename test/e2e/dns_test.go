package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// movedGatewayAddress is where TestExternalDNSFollowsTheGateway moves the
// gateway: inside the cluster's private 10.250.0.0/16, like GatewayAddress.
const movedGatewayAddress = "10.250.0.2"

// TestExternalDNSFollowsTheGateway runs the real external-dns (crd source,
// TXT registry, inmemory provider): the WebApp's DNSEndpoint becomes an A
// record with the Gateway's address in external-dns' zone, the app answers
// at the address that record names, and when the gateway's address changes
// the record follows. DNSReady is True only once external-dns has processed
// the DNSEndpoint's current generation: while external-dns is paused after
// the change, DNSReady stays WaitingForExternalDNS.
func TestExternalDNSFollowsTheGateway(t *testing.T) {
	if env.ExternalDNS == nil {
		t.Fatal("the local cluster runs no external-dns: build it with `make external-dns`")
	}
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "dns")
	host := "dns.e2e.test"
	app, url := servingApp(t, ns, "web", host, nil)
	dnse := &externaldnsv1alpha1.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	t.Cleanup(func() { moveGateway(t, localcluster.GatewayAddress) })

	// ProcessedByExternalDNS: the record names the Gateway's address, and external-dns
	// has processed the DNSEndpoint's current generation.
	rec := waitRecord(t, host, localcluster.GatewayAddress)
	g.Expect(rec.TTL).To(Equal(int64(60)), "the class's dns.ttl")
	g.Expect(rec.Labels).To(HaveKeyWithValue("resource", "crd/"+ns+"/web"), "the record comes from the WebApp's DNSEndpoint")
	published := waitCondition(t, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS)
	g.Expect(condition(published, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(host + " -> " + localcluster.GatewayAddress))
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dnse), dnse)).To(Succeed())
	g.Expect(dnse.Status.ObservedGeneration).To(Equal(dnse.Generation))
	first := dnse.Generation
	answersAt(t, url, localcluster.GatewayAddress, ns)

	// external-dns stops (as a hung one would); then the gateway moves.
	// Pylon rewrites the DNSEndpoint, and DNSReady must not claim the new
	// record is published while external-dns has not processed it.
	g.Expect(env.ExternalDNS.Pause()).To(Succeed())
	resumed := false
	defer func() {
		if !resumed {
			_ = env.ExternalDNS.Resume()
		}
	}()
	moveGateway(t, movedGatewayAddress)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dnse), dnse)).To(Succeed())
		g.Expect(dnse.Spec.Endpoints).To(HaveLen(1))
		g.Expect(dnse.Spec.Endpoints[0].Targets).To(Equal([]string{movedGatewayAddress}))
		g.Expect(dnse.Generation).To(BeNumerically(">", first))
		g.Expect(dnse.Status.ObservedGeneration).To(Equal(first))
		cur := getApp(g, app)
		c := condition(cur, pylonv1alpha1.ConditionDNSReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionUnknown), c.Message)
		g.Expect(c.Reason).To(Equal(pylonv1alpha1.ReasonWaitingForExternalDNS))
		g.Expect(c.Message).To(ContainSubstring(fmt.Sprintf("it last processed generation %d", first)))
		g.Expect(c.Message).To(ContainSubstring(host + " -> " + movedGatewayAddress))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	// It stays so for longer than external-dns' sync interval (2 s) would
	// take, had it been running: Pylon alone never turns it True.
	g.Consistently(func(g Gomega) {
		cur := getApp(g, app)
		g.Expect(anyCondition(cur, pylonv1alpha1.ConditionDNSReady).Status).NotTo(Equal(metav1.ConditionTrue))
		g.Expect(anyCondition(cur, pylonv1alpha1.ConditionReady).Status).NotTo(Equal(metav1.ConditionTrue))
	}).WithTimeout(5 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// external-dns goes on: the record follows the gateway, and only then
	// is DNSReady True again, with external-dns at the current generation.
	g.Expect(env.ExternalDNS.Resume()).To(Succeed())
	resumed = true
	waitRecord(t, host, movedGatewayAddress)
	moved := waitCondition(t, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS)
	g.Expect(condition(moved, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(host + " -> " + movedGatewayAddress))
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dnse), dnse)).To(Succeed())
	g.Expect(dnse.Status.ObservedGeneration).To(Equal(dnse.Generation))
	g.Expect(dnse.Generation).To(BeNumerically(">", first))
	answersAt(t, url, movedGatewayAddress, ns)

	// And back, with external-dns running throughout.
	moveGateway(t, localcluster.GatewayAddress)
	waitRecord(t, host, localcluster.GatewayAddress)
	back := waitCondition(t, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS)
	g.Expect(condition(back, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(host + " -> " + localcluster.GatewayAddress))
	answersAt(t, url, localcluster.GatewayAddress, ns)
}

// anyCondition returns a WebApp condition whatever generation it describes, or an
// empty one.
func anyCondition(app *pylonv1alpha1.WebApp, typ string) metav1.Condition {
	for _, c := range app.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// waitRecord waits until external-dns' zone holds exactly one A record for
// host, pointing at addr, and returns it.
func waitRecord(t *testing.T, host, addr string) localcluster.DNSRecord {
	t.Helper()
	var rec localcluster.DNSRecord
	NewWithT(t).Eventually(func(g Gomega) {
		recs, err := env.ExternalDNS.Records(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		var a []localcluster.DNSRecord
		for _, r := range recs {
			if r.DNSName == host && r.RecordType == "A" {
				a = append(a, r)
			}
		}
		g.Expect(a).To(HaveLen(1), "A records for %s in %+v", host, recs)
		g.Expect(a[0].Targets).To(Equal([]string{addr}))
		rec = a[0]
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	return rec
}

// answersAt resolves url's host through external-dns' zone, as a client
// using that DNS would, checks it resolves to addr, and requests url there:
// the app of ns must answer.
func answersAt(t *testing.T, url, addr, ns string) {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, hostPort string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(hostPort)
			if err != nil {
				return nil, err
			}
			recs, err := env.ExternalDNS.Records(ctx)
			if err != nil {
				return nil, err
			}
			i := slices.IndexFunc(recs, func(r localcluster.DNSRecord) bool { return r.DNSName == host && r.RecordType == "A" })
			if i < 0 || len(recs[i].Targets) == 0 {
				return nil, fmt.Errorf("no A record for %s in external-dns' zone", host)
			}
			if recs[i].Targets[0] != addr {
				return nil, fmt.Errorf("%s resolves to %v, want %s", host, recs[i].Targets, addr)
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(recs[i].Targets[0], port))
		},
		DisableKeepAlives: true,
	}}
	NewWithT(t).Eventually(func(g Gomega) {
		r, err := do(c, http.MethodGet, url, nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(r.Status).To(Equal(http.StatusOK))
		g.Expect(r.Echo.Namespace).To(Equal(ns), "answered by the app")
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// moveGateway restarts the bundled gateway's replicas on addr (their
// listeners bind it and they report it in Gateway and Ingress status), as
// when the gateway's load balancer gets a new address, and waits until the
// default Gateway is Programmed there. Nothing happens when it is there
// already.
func moveGateway(t *testing.T, addr string) {
	t.Helper()
	g := NewWithT(t)
	want := []string{"--listener-bind-address=" + addr, "--gateway-address=" + addr}
	for _, p := range env.Pylon.Gateways {
		if slices.Contains(p.Args, want[0]) && slices.Contains(p.Args, want[1]) && p.Running() {
			continue
		}
		g.Expect(p.Stop(30 * time.Second)).To(Succeed())
		p.Args = append(slices.DeleteFunc(slices.Clone(p.Args), func(a string) bool {
			return strings.HasPrefix(a, "--listener-bind-address=") || strings.HasPrefix(a, "--gateway-address=")
		}), want...)
		g.Expect(p.Start()).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		gw := &gwv1.Gateway{}
		g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: localcluster.SystemNamespace, Name: "pylon"}, gw)).To(Succeed())
		g.Expect(gw.Status.Addresses).To(HaveLen(1))
		g.Expect(gw.Status.Addresses[0].Value).To(Equal(addr))
		programmed := false
		for _, c := range gw.Status.Conditions {
			programmed = programmed || (c.Type == string(gwv1.GatewayConditionProgrammed) && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gw.Generation)
		}
		g.Expect(programmed).To(BeTrue(), "Gateway programmed: %+v", gw.Status.Conditions)
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// TestExternalDNSReadsTheRouteAnnotations: in annotation mode (dns.mode
// ExternalDNS) a second, real external-dns instance with the
// gateway-httproute source publishes the WebApp's HTTPRoute with the TTL
// from Pylon's annotation, and DNSReady says Pylon delegated and cannot
// see the outcome. The DNSEndpoint instance publishes nothing for it.
func TestExternalDNSReadsTheRouteAnnotations(t *testing.T) {
	if env.ExternalDNS == nil {
		t.Fatal("the local cluster runs no external-dns: build it with `make external-dns`")
	}
	g := NewWithT(t)
	ctx := context.Background()
	const zone = "routes.e2e.test"
	routes, err := env.StartExternalDNS(ctx, localcluster.ExternalDNSOptions{
		Bin: env.ExternalDNS.Path, Name: "external-dns-routes", Addr: "127.0.0.1:7980",
		Sources: []string{"gateway-httproute"}, Zones: []string{zone},
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = routes.Stop(5 * time.Second) })

	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-dns-annotations"},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "pylon", Namespace: localcluster.SystemNamespace, HTTPListener: "http"},
			DNS:     &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSExternalDNS, TTL: 90},
		},
	}
	g.Expect(env.Client.Create(ctx, class)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })

	ns := newNamespace(t, "dns-annotations")
	host := "web." + zone
	app, _ := servingApp(t, ns, "web", host, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class.Name}
	})
	cur := waitCondition(t, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonDelegatedToExternalDNS)
	g.Expect(condition(cur, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring("cannot see whether the record was published"))

	var rec localcluster.DNSRecord
	g.Eventually(func(g Gomega) {
		recs, err := routes.Records(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		i := slices.IndexFunc(recs, func(r localcluster.DNSRecord) bool { return r.DNSName == host && r.RecordType == "A" })
		g.Expect(i).To(BeNumerically(">=", 0), "A record for %s in %+v", host, recs)
		rec = recs[i]
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	g.Expect(rec.Targets).To(Equal([]string{localcluster.GatewayAddress}))
	g.Expect(rec.TTL).To(Equal(int64(90)), "the TTL annotation Pylon wrote")
	g.Expect(rec.Labels).To(HaveKeyWithValue("resource", "httproute/"+ns+"/web"))

	// No DNSEndpoint in annotation mode, so nothing in the crd instance's zone.
	recs, err := env.ExternalDNS.Records(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(recs).NotTo(ContainElement(HaveField("DNSName", host)))
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &externaldnsv1alpha1.DNSEndpoint{})).NotTo(Succeed())
}
