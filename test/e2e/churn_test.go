package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

const (
	// churnRoutes plain HTTPRoutes, each with a hostname of its own, are
	// created, switched to another backend and deleted.
	churnRoutes = 1000
	// churnApps WebApps are created, rolled to a new image and deleted in
	// the same phases: each brings the manager's children (Deployment,
	// Service, HTTPRoute, HostnameClaim...) into the churn.
	churnApps = 50
	// churnSample is every how many changed routes' propagation is timed.
	churnSample = 10
	// churnWorkers bounds the writers against the API server and the
	// readers through the gateway.
	churnWorkers = 8
	// churnTimeout bounds each phase's convergence: generous, for a
	// loaded 2-core machine.
	churnTimeout = 5 * time.Minute
	// churnPoll is the pause between two requests of a timed route.
	churnPoll = 20 * time.Millisecond
)

// Route churn through the real control plane: 1,000 plain HTTPRoutes on
// the bundled Gateway (each its own hostname, all to the Service of WebApp
// "blue") and 50 WebApps are created; then every route is switched to
// WebApp "green"'s Service (a new version: another image) and every WebApp
// is rolled to a new image; then all of it is deleted. Throughout, constant
// load hits a WebApp whose route never changes: no request may fail. Every
// 10th route switch is timed from just before its API call to the first
// request through the gateway answered by green (until then blue answers:
// the poll sees a change not yet served); p50/p99/max go to the log.
func TestRouteChurnUnderLoad(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "churn")
	suffix := ns + ".e2e.test"
	t.Cleanup(func() {
		// Later tests share the cluster: leave nothing behind even when
		// a phase failed (the namespace's deletion then takes the rest).
		_ = env.Client.DeleteAllOf(context.Background(), &gwv1.HTTPRoute{}, client.InNamespace(ns))
		_ = env.Client.DeleteAllOf(context.Background(), &pylonv1alpha1.WebApp{}, client.InNamespace(ns))
	})

	_, steadyURL := servingApp(t, ns, "steady", "steady."+suffix, nil)
	servingApp(t, ns, "blue", "blue."+suffix, nil)
	servingApp(t, ns, "green", "green."+suffix, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = canaryImage })

	load := startLoad(steadyURL, 2)
	defer func() {
		if load != nil {
			load.finish()
		}
	}()
	start := time.Now()
	routeHost := func(i int) string { return fmt.Sprintf("r%d.%s", i, suffix) }
	appHost := func(i int) string { return fmt.Sprintf("w%d.%s", i, suffix) }
	appName := func(i int) string { return fmt.Sprintf("w-%d", i) }

	// 1. Create: routes and WebApps through one bounded pool.
	phase := time.Now()
	g.Expect(churnPool(churnRoutes+churnApps, churnWorkers, func(i int) error {
		if i >= churnRoutes {
			app := newWebApp(ns, appName(i-churnRoutes), appHost(i-churnRoutes))
			return env.Client.Create(ctx, app)
		}
		return env.Client.Create(ctx, churnRoute(ns, i, routeHost(i), "blue"))
	})).To(Succeed())
	created := time.Since(phase)
	g.Expect(churnWaitAll(churnRoutes, func(i int) bool { return churnServes(routeHost(i), stableImage, ns) })).To(Succeed(), "routes served by blue")
	routesServed := time.Since(phase)
	g.Expect(churnWaitAll(churnApps, func(i int) bool { return churnServes(appHost(i), stableImage, ns) })).To(Succeed(), "WebApps served")
	t.Logf("create: %d HTTPRoutes and %d WebApps written in %s; all routes served after %s, all WebApps after %s",
		churnRoutes, churnApps, created.Round(time.Millisecond), routesServed.Round(time.Millisecond), time.Since(phase).Round(time.Millisecond))

	// 2. Change: every route to green (every churnSample-th timed) and
	// every WebApp to a new image, interleaved.
	phase = time.Now()
	var mu sync.Mutex
	var lat []time.Duration
	var timers sync.WaitGroup
	var timerErrs atomic.Int64
	var timerErr atomic.Value
	const newAppImage = "registry.example.com/shop:1.1"
	g.Expect(churnPool(churnRoutes+churnApps, churnWorkers, func(i int) error {
		if i >= churnRoutes {
			return churnUpdate(ctx, &pylonv1alpha1.WebApp{}, client.ObjectKey{Namespace: ns, Name: appName(i - churnRoutes)}, func(a *pylonv1alpha1.WebApp) {
				a.Spec.Image = newAppImage
			})
		}
		key := client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("r-%d", i)}
		hr := &gwv1.HTTPRoute{}
		if err := env.Client.Get(ctx, key, hr); err != nil {
			return err
		}
		orig := hr.DeepCopy()
		hr.Spec.Rules[0].BackendRefs[0].Name = "green"
		// A merge patch of the spec, not an Update: the gateway writes
		// the route's status meanwhile, and an Update would conflict.
		before := time.Now()
		if err := env.Client.Patch(ctx, hr, client.MergeFrom(orig)); err != nil {
			return fmt.Errorf("update route %s: %w", key.Name, err)
		}
		if i%churnSample == 0 {
			timers.Go(func() {
				d, err := churnUntilServed(routeHost(i), canaryImage, ns, before)
				if err != nil {
					timerErrs.Add(1)
					timerErr.Store(err)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		return nil
	})).To(Succeed())
	updated := time.Since(phase)
	timers.Wait()
	g.Expect(timerErrs.Load()).To(BeZero(), "timed routes: %v", timerErr.Load())
	g.Expect(churnWaitAll(churnRoutes, func(i int) bool { return churnServes(routeHost(i), canaryImage, ns) })).To(Succeed(), "routes served by green")
	routesServed = time.Since(phase)
	g.Expect(churnWaitAll(churnApps, func(i int) bool { return churnServes(appHost(i), newAppImage, ns) })).To(Succeed(), "WebApps rolled out")
	g.Expect(lat).To(HaveLen(churnRoutes / churnSample))
	slices.Sort(lat)
	t.Logf("change: %d route updates and %d WebApp updates written in %s; all routes on green after %s, all WebApps rolled out after %s",
		churnRoutes, churnApps, updated.Round(time.Millisecond), routesServed.Round(time.Millisecond), time.Since(phase).Round(time.Millisecond))
	t.Logf("route change propagation (patch call → first answer by the new backend through the gateway, %d routes timed, polled every %s): p50 %s, p99 %s, max %s",
		len(lat), churnPoll, churnQuantile(lat, 0.50).Round(time.Millisecond), churnQuantile(lat, 0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))

	// 3. Delete everything: the routes' hosts answer 404, the WebApps go.
	phase = time.Now()
	g.Expect(churnPool(churnRoutes+churnApps, churnWorkers, func(i int) error {
		var obj client.Object
		if i >= churnRoutes {
			obj = &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: appName(i - churnRoutes)}}
		} else {
			obj = &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("r-%d", i)}}
		}
		return client.IgnoreNotFound(env.Client.Delete(ctx, obj))
	})).To(Succeed())
	deleted := time.Since(phase)
	g.Expect(churnWaitAll(churnRoutes, func(i int) bool { return churnStatus(routeHost(i)) == http.StatusNotFound })).To(Succeed(), "deleted routes gone from the gateway")
	routesServed = time.Since(phase)
	g.Expect(churnWaitAll(churnApps, func(i int) bool {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: appName(i)}, &pylonv1alpha1.WebApp{})
		return apierrors.IsNotFound(err) && churnStatus(appHost(i)) == http.StatusNotFound
	})).To(Succeed(), "deleted WebApps gone")
	t.Logf("delete: %d routes and %d WebApps deleted in %s; all hosts 404 after %s, WebApps gone after %s",
		churnRoutes, churnApps, deleted.Round(time.Millisecond), routesServed.Round(time.Millisecond), time.Since(phase).Round(time.Millisecond))

	ok, failed, failures := load.finish()
	load = nil
	t.Logf("steady route under churn: %d requests succeeded, %d failed in %s", ok, failed, time.Since(start).Round(time.Millisecond))
	g.Expect(failed).To(BeZero(), "failures: %v", failures)
	g.Expect(ok).To(BeNumerically(">", 100))
	// The steady WebApp still answers, from its own namespace and image.
	waitServing(t, steadyURL, ns)
}

// churnRoute is route r-i for host, one rule PathPrefix / to backend's
// Service (a WebApp's: port 80).
func churnRoute(ns string, i int, host, backend string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("r-%d", i)},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{sharedGateway()}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
			Rules: []gwv1.HTTPRouteRule{{
				Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/")}}},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
					Name: gwv1.ObjectName(backend), Port: ptr.To[gwv1.PortNumber](80),
				}}}},
			}},
		},
	}
}

// churnUpdate applies mutate to the current object, retrying on conflicts (the
// manager writes the WebApp's status meanwhile).
func churnUpdate[T client.Object](ctx context.Context, obj T, key client.ObjectKey, mutate func(T)) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := env.Client.Get(ctx, key, obj); err != nil {
			return err
		}
		mutate(obj)
		err := env.Client.Update(ctx, obj)
		if !apierrors.IsConflict(err) || time.Now().After(deadline) {
			return err
		}
	}
}

// churnPool runs f(0..n-1) on workers goroutines and returns the first error
// (the others still run to the end).
func churnPool(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d failed, first: %w", len(errs), n, errs[0])
	}
	return nil
}

// churnWaitAll waits until done(i) holds for every i in 0..n-1, checking the
// ones not yet done in rounds through a bounded pool, at most churnTimeout.
func churnWaitAll(n int, done func(i int) bool) error {
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	deadline := time.Now().Add(churnTimeout)
	for {
		var mu sync.Mutex
		var still []int
		_ = churnPool(len(pending), churnWorkers, func(k int) error {
			if !done(pending[k]) {
				mu.Lock()
				still = append(still, pending[k])
				mu.Unlock()
			}
			return nil
		})
		if len(still) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			slices.Sort(still)
			return fmt.Errorf("%d of %d not done after %s, e.g. %v", len(still), n, churnTimeout, still[:min(len(still), 5)])
		}
		pending = still
		time.Sleep(500 * time.Millisecond)
	}
}

// churnClient sends every request to the gateway over one connection
// churnPool: the URL names a fixed host (the pool's key) and the request's
// Host header the route's.
var churnClient = sync.OnceValue(gatewayClient)

func churnGet(host string) (result, error) {
	req, err := http.NewRequest(http.MethodGet, "http://gateway.churn.invalid/", nil)
	if err != nil {
		return result{}, err
	}
	req.Host = host
	resp, err := churnClient().Do(req)
	if err != nil {
		return result{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	r := result{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&r.Echo); err != nil {
			return r, fmt.Errorf("%s: decode echo answer: %w", host, err)
		}
	}
	return r, nil
}

// churnServes reports whether host answers 200 from a Pod of ns with image.
func churnServes(host, image, ns string) bool {
	r, err := churnGet(host)
	return err == nil && r.Status == http.StatusOK && r.Echo.Image == image && r.Echo.Namespace == ns
}

// churnStatus is host's answer status, 0 on a transport error.
func churnStatus(host string) int {
	r, err := churnGet(host)
	if err != nil {
		return 0
	}
	return r.Status
}

// churnUntilServed polls host every churnPoll until a Pod of ns with image
// answers, and returns the time since start. Any other answer but the old
// version's 200 (a failure, a 404, a 5xx) is an error: a route switched
// between two ready backends must not fail a request.
func churnUntilServed(host, image, ns string, start time.Time) (time.Duration, error) {
	deadline := start.Add(churnTimeout)
	for time.Now().Before(deadline) {
		r, err := churnGet(host)
		switch {
		case err != nil:
			return 0, fmt.Errorf("%s: %w", host, err)
		case r.Status != http.StatusOK || r.Echo.Namespace != ns:
			return 0, fmt.Errorf("%s: status %d from namespace %q", host, r.Status, r.Echo.Namespace)
		case r.Echo.Image == image:
			return time.Since(start), nil
		}
		time.Sleep(churnPoll)
	}
	return 0, errors.New(host + ": new backend not served in time")
}

// churnQuantile is the nearest-rank quantile of sorted durations.
func churnQuantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
