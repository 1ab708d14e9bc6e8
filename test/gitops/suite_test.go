package gitops

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	"github.com/pylon-dev/pylon/internal/controller"
	"github.com/pylon-dev/pylon/test/testenv"
)

const (
	timeout = 20 * time.Second
	poll    = 50 * time.Millisecond
)

// The control plane starts on first use, so the tests of the script alone
// need no kube-apiserver.
var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
	// k8s talks to the API server directly (no cache), as a GitOps tool does.
	k8s client.Client
)

func TestMain(m *testing.M) {
	testenv.SetLogger()
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// cluster starts envtest once and returns a direct client.
func cluster(t *testing.T) client.Client {
	t.Helper()
	envOnce.Do(func() {
		env, envErr = testenv.Start(testenv.Options{})
		if envErr == nil {
			k8s, envErr = client.New(env.Config, client.Options{Scheme: env.Scheme})
		}
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return k8s
}

var nsCounter atomic.Int32

// newNamespace creates a namespace for one test. envtest has no namespace
// controller, so namespaces are never deleted.
func newNamespace(t *testing.T) string {
	t.Helper()
	c := cluster(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gitops%d-%d", nsCounter.Add(1), time.Now().UnixNano()%100000)}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// startController runs Pylon's controllers, wired exactly as cmd/manager
// wires them, in a manager of the test's own that watches only namespace ns.
// A manager per test lets a test stop the controller (to see a generation it
// has not observed) without touching the others. The returned stop waits for
// the manager to finish; it also runs at cleanup.
func startController(t *testing.T, ns string) (stop func()) {
	t.Helper()
	cluster(t)
	mgr, err := env.StartManager(func(ctx context.Context, mgr ctrl.Manager) error {
		return controller.Setup(ctx, mgr, controller.Options{ClusterDomain: "cluster.local", Concurrency: 1})
	}, func(o *ctrl.Options) {
		o.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}}
		// Controller names are unique per process; each test runs its own.
		o.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := mgr.Stop(); err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// newGomega is NewWithT with the suite's Eventually defaults.
func newGomega(t *testing.T) *WithT {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(timeout)
	g.SetDefaultEventuallyPollingInterval(poll)
	return g
}
