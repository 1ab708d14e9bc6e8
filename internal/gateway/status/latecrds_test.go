package status_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/status"
	"github.com/pylon-dev/pylon/internal/gateway/watch"
	"github.com/pylon-dev/pylon/test/testenv"
)

// The gateway starts on a cluster without the Gateway API; the CRDs are
// installed later. Without a restart it then serves and reports Gateways,
// with the same RESTMapper detection cmd/gateway uses.
func TestGatewayAPIInstalledAfterStart(t *testing.T) {
	g := NewWithT(t)
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	mapper, err := apiutil.NewDynamicRESTMapper(env.Config, mustHTTPClient(t, env))
	g.Expect(err).NotTo(HaveOccurred())
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, Mapper: mapper})
	g.Expect(err).NotTo(HaveOccurred())
	cl, err := client.New(env.Config, client.Options{Scheme: env.Scheme, Mapper: mapper, Cache: &client.CacheOptions{Reader: c}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(watch.GatewayAPIServed(mapper)).To(BeFalse())

	px := proxy.New(proxy.Options{})
	writer := &status.Writer{Client: cl}
	builder := &watch.Builder{
		Cache: c, Reader: c,
		Addresses: watch.Addresses{Static: []string{"10.250.0.1"}},
		Publish:   func(tb *ir.Table) error { px.Publish(tb); return nil },
		Status:    writer.Update, Debounce: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond,
		Detect:       func() bool { return watch.GatewayAPIServed(mapper) },
		DetectEvery:  200 * time.Millisecond,
		OnGatewayAPI: writer.EnableGatewayAPI,
	}
	go func() { _ = c.Start(ctx) }()
	go func() { _ = builder.Start(ctx) }()
	go func() { _ = writer.Start(ctx) }()
	g.Eventually(builder.Generations, 10*time.Second, 50*time.Millisecond).Should(BeNumerically(">", 0))

	g.Expect(env.InstallCRDs(testenv.Options{GatewayAPI: true})).To(Succeed())
	k, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k.Create(ctx, &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: gwv1.GatewayClassSpec{ControllerName: "pylon.dev/gateway"}})).To(Succeed())
	g.Expect(k.Create(ctx, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "late"},
		Spec:       gwv1.GatewaySpec{GatewayClassName: "pylon", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		var gw gwv1.Gateway
		g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "default", Name: "late"}, &gw)).To(Succeed())
		g.Expect(condTrue(gw.Status.Conditions, "Programmed", gw.Generation)).To(BeTrue(), "Gateway %+v", gw.Status)
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	g.Expect(px.State().Table.Listener(ir.ListenerKey{Port: 80})).NotTo(BeNil())
}

func mustHTTPClient(t *testing.T, env *testenv.Env) *http.Client {
	t.Helper()
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}
