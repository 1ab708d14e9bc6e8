package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/server"
	"github.com/pylon-dev/pylon/internal/gateway/watch"
	"github.com/pylon-dev/pylon/test/testenv"
)

// propagationResult is printed as one JSON line for the bench script.
type propagationResult struct {
	Routes  int     `json:"routes"`
	Changes int     `json:"changes"`
	P50ms   float64 `json:"p50Ms"`
	P99ms   float64 `json:"p99Ms"`
	MaxMs   float64 `json:"maxMs"`
	// Apply is the builder's own figure: first event to table published
	// (includes the debounce), for comparison with the end-to-end one.
	ApplyP50ms float64 `json:"applyP50Ms"`
	ApplyP99ms float64 `json:"applyP99Ms"`
	Debounce   string  `json:"debounce"`
	// BackToBack is the same with each change sent as soon as the one
	// before was served, so it lands inside the debounce window.
	BackToBack struct {
		P50ms float64 `json:"p50Ms"`
		P99ms float64 `json:"p99Ms"`
	} `json:"backToBack"`
	// Spacing is the pause between changes in the main figure: each
	// change is a lone edit, as most are.
	Spacing string `json:"spacing"`
}

// propagation measures, with routes HTTPRoutes present, the time from an
// HTTPRoute update (just before the API call) to the first request the
// gateway answers with the new route, through the real path: API server →
// informer → debounced rebuild → translate → publish → proxy.
func propagation(port, upstream int32, routes, changes int, cpuPath string) error {
	testenv.SetLogger()
	env, err := testenv.Start(testenv.Options{GatewayAPI: true})
	if err != nil {
		return fmt.Errorf("start envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		return fmt.Errorf("new client: %w", err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	w := newWorld(routes, port, upstream, nil, nil, false)
	if err := createAll(ctx, c, w.objects()); err != nil {
		return err
	}

	// cmd/gateway's wiring, minus status writing and the admin server.
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Field: fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS))},
		}},
	})
	if err != nil {
		return fmt.Errorf("new manager: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := proxy.New(proxy.Options{})
	srv := server.New(p, server.Options{BindAddress: "127.0.0.1", Logger: logger})
	defer srv.Shutdown(context.Background())
	var applyMu sync.Mutex
	var applied []float64
	var gens atomic.Int64
	b := &watch.Builder{
		Cache: mgr.GetCache(), Reader: mgr.GetCache(), GatewayAPI: true,
		Addresses: watch.Addresses{Static: []string{"127.0.0.1"}},
		Publish: func(t *ir.Table) error {
			p.Publish(t)
			gens.Add(1)
			return srv.Reconcile(t)
		},
		Applied: func(d time.Duration) {
			applyMu.Lock()
			applied = append(applied, ms(d))
			applyMu.Unlock()
		},
		Logger: logger,
	}
	if err := mgr.Add(b); err != nil {
		return fmt.Errorf("add builder: %w", err)
	}
	go func() { _ = mgr.Start(ctx) }()

	hc := &http.Client{Timeout: time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(int(port))
	last := routes - 1
	if err := waitServed(hc, url+"/v0", routeHost(last), 2*time.Minute); err != nil {
		return fmt.Errorf("first table: %w", err)
	}
	applyMu.Lock()
	applied = nil // only the changes below
	applyMu.Unlock()

	stop, err := startProfiles(cpuPath, "")
	if err != nil {
		return err
	}
	const spacing = 200 * time.Millisecond
	change := func(k int) (float64, error) {
		i := k % routes
		prefix := "/v" + strconv.Itoa(k)
		r := &gwv1.HTTPRoute{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: benchNS, Name: fmt.Sprintf("r-%d", i)}, r); err != nil {
			return 0, fmt.Errorf("get route: %w", err)
		}
		r.Spec.Rules[0].Matches[0].Path.Value = ptr.To(prefix)
		start := time.Now()
		if err := c.Update(ctx, r); err != nil {
			return 0, fmt.Errorf("update route: %w", err)
		}
		if err := waitServed(hc, url+prefix, routeHost(i), 10*time.Second); err != nil {
			return 0, fmt.Errorf("change %d: %w", k, err)
		}
		return ms(time.Since(start)), nil
	}
	var lat, b2b []float64
	for k := 1; k <= changes; k++ {
		time.Sleep(spacing)
		d, err := change(k)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	applyMu.Lock()
	spacedApplied := slices.Clone(applied)
	applyMu.Unlock()
	for k := changes + 1; k <= 2*changes; k++ {
		d, err := change(k)
		if err != nil {
			return err
		}
		b2b = append(b2b, d)
	}
	if err := stop(); err != nil {
		return err
	}
	res := propagationResult{Routes: routes, Changes: changes, P50ms: quantile(lat, 0.5), P99ms: quantile(lat, 0.99), MaxMs: slices.Max(lat),
		ApplyP50ms: quantile(spacedApplied, 0.5), ApplyP99ms: quantile(spacedApplied, 0.99), Debounce: "75ms (watch.Builder default)",
		Spacing: spacing.String()}
	res.BackToBack.P50ms, res.BackToBack.P99ms = quantile(b2b, 0.5), quantile(b2b, 0.99)
	out, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	fmt.Println(string(out))
	return nil
}

// waitServed polls (1 ms apart, bounded by limit) until a route answers
// host/path (anything but 404).
func waitServed(hc *http.Client, url, host string, limit time.Duration) error {
	start := time.Now()
	for time.Since(start) < limit {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("new request: %w", err)
		}
		req.Host = host
		if res, err := hc.Do(req); err == nil {
			_ = res.Body.Close()
			if res.StatusCode != http.StatusNotFound {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s%s not served within %s", host, url, limit)
}

// createAll creates objs with a few parallel writers.
func createAll(ctx context.Context, c client.Client, objs []client.Object) error {
	// Class and Gateway first: routes refer to them.
	for _, o := range objs[:2] {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s: %w", o.GetName(), err)
		}
	}
	var next atomic.Int64
	next.Store(2)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(objs); i = int(next.Add(1) - 1) {
				if err := c.Create(ctx, objs[i]); err != nil {
					errs <- fmt.Errorf("create %T %s: %w", objs[i], objs[i].GetName(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quantile is the nearest-rank quantile of xs (sorted copy).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
