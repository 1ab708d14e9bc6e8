package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/leaderelection"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// etcdOutage is how long etcd stays down.
const etcdOutage = 20 * time.Second

// etcd is down for 20 seconds under constant load: the gateway keeps
// serving its last routes and no request fails, through the outage and the
// recovery; neither the manager nor the gateway exits (their leaders renew
// within the renew deadline once etcd is back), both keep their Lease with
// no transition, and everything converges: a change made just before the
// outage, a change made after it, a new WebApp and a route change.
func TestEtcdOutage(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "etcd")
	const (
		host       = "steady.etcd.e2e.test"
		beforeHost = "before.etcd.e2e.test"
		afterHost  = "after.etcd.e2e.test"
		movedHost  = "moved.etcd.e2e.test"
		freshHost  = "fresh.etcd.e2e.test"
		imageA     = "registry.example.com/shop:1.1"
		imageB     = "registry.example.com/shop:1.2"
	)
	_, url := servingApp(t, ns, "steady", host, func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	before, _ := servingApp(t, ns, "before", beforeHost, nil)
	after, _ := servingApp(t, ns, "after", afterHost, nil)

	watched := watchedProcesses()
	startsBefore := map[string]int{}
	for name, p := range watched {
		startsBefore[name] = starts(t, p)
	}
	leasesBefore := map[string]coordinationv1.LeaseSpec{}
	for _, name := range pylonLeases {
		leasesBefore[name] = lease(g, name)
	}
	m0 := scrapeManager(g)

	l := startLoad(url, 2)
	renewals := watchRenewals(env.Client)
	time.Sleep(time.Second)

	// A change the API accepts just before etcd goes: the manager may or
	// may not have acted on it when the outage begins.
	updateApp(t, before, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = imageA })
	// The watch has seen every Lease before etcd goes.
	g.Eventually(renewals.seenAll).WithTimeout(10 * time.Second).Should(BeClosed())
	stopped := time.Now()
	g.Expect(env.StopEtcd()).To(Succeed())
	t.Logf("etcd stopped")

	// The outage is real: a write fails.
	probe := timeoutClient(g, 2*time.Second)
	err := probe.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "during-outage"}})
	g.Expect(err).To(HaveOccurred(), "a write succeeded while etcd was down")
	t.Logf("a write during the outage fails: %v", err)

	time.Sleep(time.Until(stopped.Add(etcdOutage)))
	m1 := scrapeManager(g)
	g.Expect(env.StartEtcd(ctx)).To(Succeed())
	outage := time.Since(stopped)
	back := time.Now()
	t.Logf("etcd healthy again after an outage of %s", outage.Round(time.Millisecond))

	// The first write the API server accepts after etcd is back.
	var firstWrite time.Duration
	g.Eventually(func() error {
		err := probe.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "after-outage"}})
		// An attempt that timed out here may still have been written.
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
		if err == nil {
			firstWrite = time.Since(back)
		}
		return err
	}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
	t.Logf("first successful API write %s after etcd was healthy", firstWrite.Round(time.Millisecond))

	// Converges: the change made just before the outage, one made after it
	// (a new hostname, so a route change the gateway must pick up), a new
	// WebApp. Reflectors that lost their watch back off (up to 30 s,
	// jittered), hence the long bounds.
	updateApp(t, after, func(a *pylonv1alpha1.WebApp) { a.Spec.Image, a.Spec.Hostname = imageB, movedHost })
	fresh := newWebApp(ns, "fresh", freshHost)
	g.Expect(env.Client.Create(ctx, fresh)).To(Succeed())
	var converged []string
	var convergedAll time.Duration
	served := func(name, url, image string) {
		NewWithT(t).Eventually(func(g Gomega) {
			g.Expect(split(g, url, 10, nil)).To(Equal(map[string]int{image: 10}))
		}).WithTimeout(3*time.Minute).WithPolling(500*time.Millisecond).Should(Succeed(), name)
		converged = append(converged, fmt.Sprintf("%s: %s", name, time.Since(back).Round(time.Millisecond)))
	}
	served("change made before the outage", "http://"+beforeHost+"/", imageA)
	served("change made after the outage (new hostname)", "http://"+movedHost+"/", imageB)
	served("new WebApp", "http://"+freshHost+"/", stableImage)
	waitCondition(t, fresh, "Ready", metav1.ConditionTrue, "")
	waitCondition(t, before, "Ready", metav1.ConditionTrue, "")
	waitCondition(t, after, "Ready", metav1.ConditionTrue, "")
	convergedAll = time.Since(back)
	converged = append(converged, fmt.Sprintf("all Ready: %s", convergedAll.Round(time.Millisecond)))
	m2 := scrapeManager(g)

	ok, failed, failures := l.finish()
	t.Logf("under load (outage and recovery): %d requests succeeded, %d failed", ok, failed)
	t.Logf("converged, after etcd was back: %s", strings.Join(converged, "; "))
	g.Expect(failed).To(BeZero(), "failures: %v", failures)
	g.Expect(ok).To(BeNumerically(">", 100))

	// The manager's figures: requests and reconcile errors during the
	// outage (m0→m1) and over the recovery (m1→m2).
	for _, s := range []struct {
		phase  string
		a, b   string
		window time.Duration
	}{{"during the outage", m0, m1, outage}, {"over the recovery", m1, m2, time.Since(back)}} {
		t.Logf("manager %s (%s): %v API requests by code %v; reconciles %v; reconcile errors %v",
			s.phase, s.window.Round(time.Second),
			metricSum(s.b, "rest_client_requests_total")-metricSum(s.a, "rest_client_requests_total"),
			metricDelta(s.a, s.b, "rest_client_requests_total", "code"),
			metricDelta(s.a, s.b, "controller_runtime_reconcile_total", "result"),
			metricSum(s.b, "controller_runtime_reconcile_errors_total")-metricSum(s.a, "controller_runtime_reconcile_errors_total"))
	}
	g.Expect(metricSum(m2, "process_start_time_seconds")).To(Equal(metricSum(m0, "process_start_time_seconds")), "the manager restarted")

	// Nobody exited; Pylon's leaders kept their leases.
	for _, name := range sortedKeys(watched) {
		p := watched[name]
		running, n := p.Running(), starts(t, p)
		t.Logf("%s: running %v, started %d time(s) before, %d after", name, running, startsBefore[name], n)
		if name == "manager" || name == "gateway" {
			g.Expect(running).To(BeTrue(), "%s exited (log %s)", name, p.LogPath)
			g.Expect(n).To(Equal(startsBefore[name]), "%s was restarted", name)
		}
	}
	// A leader exits when it cannot renew within the renew deadline of the
	// window that opens a retry period after its last renewal: the longest
	// time between two Lease writes seen, against that window, is how close
	// it came (the flags' defaults run here).
	window := leaderelection.DefaultRetryPeriod + leaderelection.DefaultRenewDeadline
	gaps := renewals.stop()
	for _, name := range pylonLeases {
		gap, seen := gaps[name]
		if !seen {
			t.Logf("Lease %s: no renewal seen", name)
			continue
		}
		t.Logf("Lease %s: longest time between two of its writes %s (window %s, margin %s)",
			name, gap.Round(time.Millisecond), window, (window - gap).Round(time.Millisecond))
	}
	for _, name := range pylonLeases {
		was, now := leasesBefore[name], lease(g, name)
		t.Logf("Lease %s: holder %s → %s, transitions %d → %d", name,
			ptr.Deref(was.HolderIdentity, ""), ptr.Deref(now.HolderIdentity, ""),
			ptr.Deref(was.LeaseTransitions, 0), ptr.Deref(now.LeaseTransitions, 0))
		g.Expect(now.HolderIdentity).To(Equal(was.HolderIdentity), "Lease %s changed hands", name)
		g.Expect(now.LeaseTransitions).To(Equal(was.LeaseTransitions), "Lease %s changed hands", name)
	}
	t.Logf("figures: failed requests %d (of %d), outage %s, first API write %s after etcd was back, converged %s, lease transitions unchanged",
		failed, ok+failed, outage.Round(time.Millisecond), firstWrite.Round(time.Millisecond), convergedAll.Round(time.Millisecond))
}

// pylonLeases are the Leases of the manager and the gateway's status writer.
var pylonLeases = []string{"pylon-manager.pylon.dev", "pylon-gateway.pylon.dev"}

func lease(g Gomega, name string) coordinationv1.LeaseSpec {
	l := &coordinationv1.Lease{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: localcluster.SystemNamespace, Name: name}, l)).To(Succeed())
	g.Expect(l.Spec.HolderIdentity).NotTo(BeNil(), "Lease %s has no holder", name)
	return l.Spec
}

// watchedProcesses are the processes that must ride out an outage of the
// control plane's store.
func watchedProcesses() map[string]*localcluster.Process {
	out := map[string]*localcluster.Process{
		"manager": env.Pylon.Manager, "gateway": env.Pylon.Gateway,
		"kube-controller-manager": env.ControllerManager,
	}
	if env.CertManager != nil {
		out["cert-manager"] = env.CertManager.Process
	}
	if env.ExternalDNS != nil {
		out["external-dns"] = env.ExternalDNS.Process
	}
	return out
}

// starts counts the starts a process's log records (Process.Start writes a
// line on each).
func starts(t *testing.T, p *localcluster.Process) int {
	t.Helper()
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatalf("read log of %s: %v", p.Name, err)
	}
	return len(regexp.MustCompile(`(?m)^---- \S+ start `).FindAll(b, -1))
}

func timeoutClient(g Gomega, timeout time.Duration) client.Client {
	cfg := rest.CopyConfig(env.Admin)
	cfg.Timeout = timeout
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// metricSeries returns the value of every series of a metric, by its label
// set.
func metricSeries(text, name string) map[string]float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	out := map[string]float64{}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			out[m[1]] += v
		}
	}
	return out
}

func metricSum(text, name string) float64 {
	var sum float64
	for _, v := range metricSeries(text, name) {
		sum += v
	}
	return sum
}

// metricDelta is how much a metric grew from a to b, by one label's value.
func metricDelta(a, b, name, label string) map[string]float64 {
	re := regexp.MustCompile(label + `="([^"]*)"`)
	by := func(text string) map[string]float64 {
		out := map[string]float64{}
		for labels, v := range metricSeries(text, name) {
			k := ""
			if m := re.FindStringSubmatch(labels); m != nil {
				k = m[1]
			}
			out[k] += v
		}
		return out
	}
	was, now := by(a), by(b)
	out := map[string]float64{}
	for k, v := range now {
		if d := v - was[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// renewalWatch polls Pylon's Leases and keeps, per Lease, the longest time
// between seeing two of its writes. Not spec.renewTime: that is when the
// leader began its attempt, and an attempt that hung through the outage
// lands with the time it began. A write is seen once reads work again, so
// the gap over an outage is an upper bound of when the leader's renewal
// succeeded.
type renewalWatch struct {
	done, seenAll chan struct{}
	gaps          chan map[string]time.Duration
}

func watchRenewals(c client.Client) *renewalWatch {
	w := &renewalWatch{done: make(chan struct{}), seenAll: make(chan struct{}), gaps: make(chan map[string]time.Duration, 1)}
	go func() {
		type seen struct {
			rv string
			at time.Time
		}
		last, gaps := map[string]seen{}, map[string]time.Duration{}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, name := range pylonLeases {
				l := &coordinationv1.Lease{}
				// The deadline bounds client-go's retries too.
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := c.Get(ctx, client.ObjectKey{Namespace: localcluster.SystemNamespace, Name: name}, l)
				cancel()
				if err != nil {
					continue
				}
				now := time.Now()
				prev, ok := last[name]
				if ok && prev.rv == l.ResourceVersion {
					continue
				}
				if ok && now.Sub(prev.at) > gaps[name] {
					gaps[name] = now.Sub(prev.at)
				}
				last[name] = seen{l.ResourceVersion, now}
				if len(last) == len(pylonLeases) && !ok {
					close(w.seenAll)
				}
			}
			select {
			case <-w.done:
				w.gaps <- gaps
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *renewalWatch) stop() map[string]time.Duration {
	close(w.done)
	return <-w.gaps
}
