package controller_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/test/testenv"
)

// k8s talks to the API server directly (no cache), as a user would.
var (
	k8s client.Client
	env *testenv.Env
	// managerMetrics receives the manager's own series (monitoring_test.go).
	managerMetrics = prometheus.NewPedanticRegistry()
	// cached reads the manager's cache, to see what it keeps.
	cached client.Reader
	// verified is the manager's memory of children found up to date
	// (drift_test.go forgets it, as a restart does).
	verified = applier.NewVerified()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	testenv.SetLogger()
	var err error
	env, err = testenv.Start(testenv.Options{GatewayAPI: true, CertManager: true, ExternalDNS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	k8s, err = client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := env.StartManager(func(ctx context.Context, mgr ctrl.Manager) error {
		return controller.Setup(ctx, mgr, controller.Options{
			ClusterDomain: "cluster.local", Concurrency: 2, Clock: testClock.Now,
			GatewayMetricsURLs: []string{gatewayMetrics.url()}, CanaryDrain: time.Second, PodsRecheck: 2 * time.Second,
			Metrics: managerMetrics, Verified: verified,
		})
	}, func(o *ctrl.Options) { o.Client, o.Cache = controller.ClientOptions(), controller.CacheOptions() })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cached = mgr.GetCache()
	code := m.Run()
	if err := mgr.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

var nsCounter atomic.Int32

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%d-%d", nsCounter.Add(1), time.Now().UnixNano()%100000)}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// newWebApp creates a WebApp with image and whatever mutate sets.
func newWebApp(t *testing.T, ns, name string, mutate func(*pylonv1alpha1.WebApp)) *pylonv1alpha1.WebApp {
	t.Helper()
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       pylonv1alpha1.WebAppSpec{Image: "registry.example.com/" + name + ":1.0.0"},
	}
	if mutate != nil {
		mutate(app)
	}
	if err := k8s.Create(context.Background(), app); err != nil {
		t.Fatalf("create WebApp: %v", err)
	}
	return app
}

// get reads obj (by its namespace and name) into obj, failing the check on error.
func get(g gomega.Gomega, obj client.Object) {
	g.ExpectWithOffset(1, k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(gomega.Succeed())
}

const (
	timeout = 20 * time.Second
	poll    = 50 * time.Millisecond
)

// clock is a settable clock for the reconciler, so that certificate expiry
// can be tested without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var testClock = &clock{}
