package claims

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/testenv"
)

var (
	// k8s talks to the API server directly (no cache), as a user would.
	k8s client.Client
	// cached is the manager's client: cached reads with HostnameIndex.
	cached client.Client
	// cl is the subject, wired as the WebApp reconciler wires it.
	cl *Claims
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	testenv.SetLogger()
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	if k8s, err = client.New(env.Config, client.Options{Scheme: env.Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := env.StartManager(func(ctx context.Context, mgr ctrl.Manager) error {
		if err := SetupIndex(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		cached = mgr.GetClient()
		cl = &Claims{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
		return (&Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := mgr.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

const (
	timeout = 20 * time.Second
	poll    = 50 * time.Millisecond
)

var counter atomic.Int32

// newNamespace creates a namespace whose name starts with prefix, so that a
// test can choose how namespaces sort against creation order.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d-%d", prefix, counter.Add(1), time.Now().UnixNano()%100000)}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// newHost returns a hostname no other test uses: claims are cluster-wide.
func newHost(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("h%d-%d.apps.example.com", counter.Add(1), time.Now().UnixNano()%100000)
}

// newWebApp creates a WebApp wanting host.
func newWebApp(t *testing.T, ns, name, host string) *pylonv1alpha1.WebApp {
	t.Helper()
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       pylonv1alpha1.WebAppSpec{Image: "registry.example.com/" + name + ":1.0.0", Hostname: host},
	}
	if err := k8s.Create(context.Background(), app); err != nil {
		t.Fatalf("create WebApp: %v", err)
	}
	return app
}

// nextSecond waits until objects created from now on have a later
// creationTimestamp (whole seconds) than those created before.
func nextSecond() {
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
}

// waitCached waits until the cache (and so HostnameIndex) shows exactly the
// given WebApps wanting host, as a reconcile triggered by their creation
// would see them.
func waitCached(t *testing.T, host string, apps ...*pylonv1alpha1.WebApp) {
	t.Helper()
	want := map[string]bool{}
	for _, a := range apps {
		want[string(a.UID)] = true
	}
	gomega.NewWithT(t).Eventually(func(g gomega.Gomega) {
		list := &pylonv1alpha1.WebAppList{}
		g.Expect(cached.List(context.Background(), list, client.MatchingFields{HostnameIndex: host})).To(gomega.Succeed())
		got := map[string]bool{}
		for i := range list.Items {
			got[string(list.Items[i].UID)] = true
		}
		g.Expect(got).To(gomega.Equal(want))
	}, timeout, poll).Should(gomega.Succeed())
}

// liveClaim reads the claim of host from the API server; nil when there is none.
func liveClaim(t *testing.T, host string) *pylonv1alpha1.HostnameClaim {
	t.Helper()
	c, err := readClaim(context.Background(), k8s, host)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ensure calls Ensure and fails the test on error.
func ensure(t *testing.T, app *pylonv1alpha1.WebApp, eligible func(context.Context, *pylonv1alpha1.WebApp) bool) Verdict {
	t.Helper()
	v, err := cl.Ensure(context.Background(), app, rulesOf(eligible))
	if err != nil {
		t.Fatalf("Ensure %s/%s: %v", app.Namespace, app.Name, err)
	}
	return v
}

// refOf is app's reference as a pointer, as Verdict.Holder carries it.
func refOf(app *pylonv1alpha1.WebApp) *pylonv1alpha1.WebAppReference {
	r := ref(app)
	return &r
}

// except returns an eligibility function refusing the given WebApps.
func except(refused ...*pylonv1alpha1.WebApp) func(context.Context, *pylonv1alpha1.WebApp) bool {
	return func(_ context.Context, a *pylonv1alpha1.WebApp) bool {
		for _, r := range refused {
			if a.UID == r.UID {
				return false
			}
		}
		return true
	}
}

// rulesOf turns a yes/no eligibility test into Rules.
func rulesOf(eligible func(context.Context, *pylonv1alpha1.WebApp) bool) Rules {
	if eligible == nil {
		return Rules{}
	}
	return Rules{Eligible: func(ctx context.Context, a *pylonv1alpha1.WebApp) (bool, error) { return eligible(ctx, a), nil }}
}
