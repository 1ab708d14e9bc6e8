package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// A rolling restart of both gateway replicas, which share the address
// (SO_REUSEPORT), under constant GETs, POSTs with bodies, an SSE stream and
// a WebSocket: no request fails; each replica, on SIGTERM, fails /readyz,
// keeps serving through its drain delay, then ends the streams it carries
// cleanly (never a reset) and exits 0; the clients reconnect, to the other
// replica, and carry on. Which replica served is told by each replica's
// own request counters.
func TestGatewayRollingRestart(t *testing.T) {
	g := NewWithT(t)
	gws := env.Pylon.Gateways
	g.Expect(len(gws)).To(BeNumerically(">=", 2), "the local cluster runs two gateway replicas")
	g.Expect(localcluster.RequestMigration()).To(BeTrue(),
		"net.ipv4.tcp_migrate_req is off in the cluster's network namespace (kernel older than 5.14?): a replica that stops accepting would reset the connections queued on it")
	ns := newNamespace(t, "gwrestart")
	const host = "gwrestart.e2e.test"
	servingApp(t, ns, "web", host, func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	for i := range gws {
		waitGatewayReady(t, i)
	}

	s := startSampler(ns, len(gws))
	defer s.stop()
	tr := startTraffic(t, trafficOptions{Host: host, NS: ns, GETs: 2, POSTs: 2, SSE: 1, WebSockets: 1})
	start := time.Now()
	// Both replicas take a share of the traffic before anything happens.
	for i := range gws {
		g.Eventually(func() float64 { return s.served(i) }).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).
			Should(BeNumerically(">", 0), "replica %d serves requests of the app", i)
	}
	g.Eventually(func() int64 { return tr.kinds[kindSSE].messages.Load() }).WithTimeout(30 * time.Second).Should(BeNumerically(">", 0))
	g.Eventually(func() int64 { return tr.kinds[kindWebSocket].messages.Load() }).WithTimeout(30 * time.Second).Should(BeNumerically(">", 0))

	var drains []drainWindow
	for i, gw := range gws {
		holder := gatewayLeaseHolder()
		d := drainReplica(t, s, i, gw)
		drains = append(drains, d)
		g.Expect(gw.Start()).To(Succeed())
		waitGatewayReady(t, i)
		ready := time.Now()
		// The new process takes its share again.
		g.Eventually(func() float64 { return s.served(i) }).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).
			Should(BeNumerically(">", 0), "restarted replica %d serves requests of the app", i)
		t.Logf("replica %d: drained in %s (served %.0f requests of the app after SIGTERM, /readyz failed %s after it), back and ready in %s, serving in %s; status lease held by %s before, %s after",
			i, d.exit.Sub(d.sigterm).Round(time.Millisecond), d.servedAfterSIGTERM, d.unready.Sub(d.sigterm).Round(time.Millisecond),
			ready.Sub(d.exit).Round(time.Millisecond), time.Since(ready).Round(time.Millisecond), holder, gatewayLeaseHolder())
	}
	// The streams carry on after their last reconnect.
	for _, kind := range []string{kindSSE, kindWebSocket} {
		k := tr.kinds[kind]
		g.Eventually(k.messagesSince.Load).WithTimeout(30*time.Second).Should(BeNumerically(">=", 10), "%s carries on after its reconnect", kind)
	}
	tr.finish()
	s.stop()
	failures := tr.report(t, fmt.Sprintf("gateway rolling restart (%s)", time.Since(start).Round(time.Millisecond)))
	for i := range gws {
		t.Logf("replica %d: served %s requests of the app (per process, a lower bound: sampled every %s)", i, s.lives(i), samplePeriod)
	}
	g.Expect(failures).To(BeEmpty(), "no request fails and every stream ends cleanly")
	g.Expect(tr.kinds[kindGET].ok.Load()).To(BeNumerically(">", 100))
	g.Expect(tr.kinds[kindPOST].ok.Load()).To(BeNumerically(">", 100))

	// Every stream was ended, since every replica was restarted, and only
	// by a draining replica.
	for _, kind := range []string{kindSSE, kindWebSocket} {
		ends := tr.ends(kind)
		g.Expect(ends).NotTo(BeEmpty(), "a %s stream is ended by the replica that carried it", kind)
		for _, e := range ends {
			g.Expect(cleanEnd(e.How)).To(BeTrue(), "%s ended %s: %s", kind, e.How, e.Detail)
			g.Expect(duringDrain(e.At, drains)).To(BeTrue(), "%s ended at %s, outside every drain %v", kind, e.At.Format("15:04:05.000"), drains)
		}
	}
	gw := &gwv1.Gateway{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: localcluster.SystemNamespace, Name: "pylon"}, gw)).To(Succeed())
	g.Expect(gw.Status.Conditions).To(ContainElement(And(
		HaveField("Type", string(gwv1.GatewayConditionProgrammed)), HaveField("Status", metav1.ConditionTrue))))
}

// drainWindow is one replica's drain: from SIGTERM to its exit.
type drainWindow struct {
	replica                int
	sigterm, unready, exit time.Time
	servedAfterSIGTERM     float64
}

func (d drainWindow) String() string {
	return fmt.Sprintf("replica %d %s-%s", d.replica, d.sigterm.Format("15:04:05.000"), d.exit.Format("15:04:05.000"))
}

// duringDrain reports whether at falls in a drain window (with a second of
// slack for the client to notice).
func duringDrain(at time.Time, drains []drainWindow) bool {
	for _, d := range drains {
		if !at.Before(d.sigterm) && !at.After(d.exit.Add(time.Second)) {
			return true
		}
	}
	return false
}

// drainReplica sends SIGTERM to gateway replica i and waits for it to
// exit: /readyz must fail while it still runs, it must keep serving, and
// it must exit 0 within its drain bounds.
func drainReplica(t *testing.T, s *sampler, i int, gw *localcluster.Process) drainWindow {
	t.Helper()
	g := NewWithT(t)
	d := drainWindow{replica: i}
	before := s.served(i)
	d.sigterm = time.Now()
	g.Expect(gw.Signal(syscall.SIGTERM)).To(Succeed())
	exited := gw.Exited()
	bound := time.After(localcluster.GatewayDrainDelay + localcluster.GatewayDrainTimeout + 20*time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	c := &http.Client{Timeout: time.Second}
	for done := false; !done; {
		select {
		case <-exited:
			done = true
		case <-bound:
			t.Fatalf("gateway replica %d still runs %s after SIGTERM", i, time.Since(d.sigterm))
		case <-tick.C:
			if !d.unready.IsZero() {
				continue
			}
			if res, err := c.Get("http://" + localcluster.GatewayAdminAddress(i) + "/readyz"); err == nil {
				_ = res.Body.Close()
				if res.StatusCode == http.StatusServiceUnavailable {
					d.unready = time.Now()
				}
			}
		}
	}
	d.exit = time.Now()
	g.Expect(gw.ExitErr()).NotTo(HaveOccurred(), "gateway replica %d exits 0 after draining", i)
	d.servedAfterSIGTERM = s.served(i) - before
	g.Expect(d.unready.IsZero()).To(BeFalse(), "replica %d failed /readyz while it drained", i)
	g.Expect(d.servedAfterSIGTERM).To(BeNumerically(">", 0), "replica %d kept serving after SIGTERM", i)
	// The process is gone; Stop returns at once and lets it start again.
	g.Expect(gw.Stop(time.Second)).To(Succeed())
	s.restarted(i)
	return d
}

// waitGatewayReady waits until gateway replica i answers /readyz with 200.
func waitGatewayReady(t *testing.T, i int) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	NewWithT(t).Eventually(func(g Gomega) {
		res, err := c.Get("http://" + localcluster.GatewayAdminAddress(i) + "/readyz")
		g.Expect(err).NotTo(HaveOccurred())
		_ = res.Body.Close()
		g.Expect(res.StatusCode).To(Equal(http.StatusOK))
	}).WithTimeout(readyTimeout).WithPolling(100 * time.Millisecond).Should(Succeed())
}

// gatewayLeaseHolder is the holder of the gateway's status-writer lease.
func gatewayLeaseHolder() string {
	l := &coordinationv1.Lease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: localcluster.SystemNamespace, Name: "pylon-gateway.pylon.dev"}, l); err != nil {
		return "(" + err.Error() + ")"
	}
	h := ptr.Deref(l.Spec.HolderIdentity, "")
	if _, id, ok := strings.Cut(h, "_"); ok {
		return id[:min(8, len(id))]
	}
	return h
}

// samplePeriod is how often the sampler scrapes each replica.
const samplePeriod = 100 * time.Millisecond

// sampler scrapes every gateway replica's admin endpoint for the requests
// it served to a namespace's routes (pylon_gateway_requests_total), once
// per process ("life"): a restarted replica counts from zero.
type sampler struct {
	ns     string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	last [][]float64 // per replica, per life: the last value scraped
}

func startSampler(ns string, replicas int) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{ns: ns, cancel: cancel, last: make([][]float64, replicas)}
	for i := range replicas {
		s.last[i] = []float64{0}
		s.wg.Go(func() {
			c := &http.Client{Timeout: time.Second}
			tick := time.NewTicker(samplePeriod)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				s.mu.Lock()
				life := len(s.last[i]) - 1
				s.mu.Unlock()
				v, err := scrapeServed(c, localcluster.GatewayAdminAddress(i), ns)
				if err != nil {
					continue
				}
				s.mu.Lock()
				// A scrape that raced with a restart belongs to no life.
				if life == len(s.last[i])-1 && v > s.last[i][life] {
					s.last[i][life] = v
				}
				s.mu.Unlock()
			}
		})
	}
	return s
}

func (s *sampler) stop() { s.cancel(); s.wg.Wait() }

// served is what replica i's current process has served, as last scraped.
func (s *sampler) served(i int) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[i][len(s.last[i])-1]
}

// restarted starts a new life of replica i.
func (s *sampler) restarted(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[i] = append(s.last[i], 0)
}

// lives formats what each process of replica i served.
func (s *sampler) lives(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, v := range s.last[i] {
		parts = append(parts, strconv.FormatFloat(v, 'f', 0, 64))
	}
	return strings.Join(parts, " then ")
}

// scrapeServed sums a gateway replica's pylon_gateway_requests_total
// series of the routes in ns.
func scrapeServed(c *http.Client, admin, ns string) (float64, error) {
	res, err := c.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", res.StatusCode)
	}
	var sum float64
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "pylon_gateway_requests_total{") || !strings.Contains(line, `namespace="`+ns+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, sc.Err()
}
