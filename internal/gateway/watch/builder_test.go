package watch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// ingressWorld is one Ingress of our class with one ready endpoint.
func ingressWorld() []client.Object {
	ns := "team-a"
	return []client.Object{
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: networkingv1.IngressClassSpec{Controller: translate.IngressControllerName}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "shop-1", Labels: map[string]string{discoveryv1.LabelServiceName: "shop"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
		},
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}, Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("pylon"),
			DefaultBackend:   &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "shop", Port: networkingv1.ServiceBackendPort{Number: 80}}},
		}},
	}
}

func TestRebuildPublishesOnlyChangedTables(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(ingressWorld()...).Build()
	var published []*ir.Table
	statuses := 0
	b := &Builder{
		Reader:  c,
		Publish: func(t *ir.Table) error { published = append(published, t); return nil },
		Status:  func(translate.StatusUpdates) { statuses++ },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		deb:     newDebouncer(time.Second, time.Second),
	}
	b.rebuild(ctx, time.Now())
	if len(published) != 1 || statuses != 1 {
		t.Fatalf("first rebuild: %d tables published, %d statuses reported; want 1 and 1", len(published), statuses)
	}

	// An unrelated change the translator does not see (a Service of no
	// Ingress) gives an equal table: nothing to publish, status still
	// reported (observedGeneration may have moved).
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "cart"}}
	if err := c.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	b.rebuild(ctx, time.Now())
	if len(published) != 1 || statuses != 2 || b.Generations() != 1 {
		t.Fatalf("equal table: %d published, %d statuses, %d generations; want 1, 2, 1", len(published), statuses, b.Generations())
	}

	// An endpoint going unready changes the table.
	var slice discoveryv1.EndpointSlice
	if err := c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "shop-1"}, &slice); err != nil {
		t.Fatal(err)
	}
	slice.Endpoints[0].Conditions.Ready = ptr.To(false)
	if err := c.Update(ctx, &slice); err != nil {
		t.Fatal(err)
	}
	b.rebuild(ctx, time.Now())
	if len(published) != 2 || b.Generations() != 2 {
		t.Fatalf("changed table: %d published, %d generations; want 2 and 2", len(published), b.Generations())
	}
	eps := published[1].Listeners[0].VirtualHosts[0].Routes[0].Action.Backends[0].Endpoints
	if len(eps) != 1 || eps[0].Ready {
		t.Fatalf("published endpoints %+v, want the one endpoint not ready", eps)
	}
}

// A table Publish could not apply in full (a listener did not open) is
// handed over again, by itself and although it is equal to the last one.
func TestRebuildRetriesAFailedPublish(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(ingressWorld()...).Build()
	calls := 0
	b := &Builder{
		Reader: c,
		Publish: func(*ir.Table) error {
			calls++
			if calls == 1 {
				return errors.New("listen tcp :80: address already in use")
			}
			return nil
		},
		PublishRetry: 10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		deb:          newDebouncer(time.Second, time.Second),
	}
	b.rebuild(ctx, time.Now())
	select {
	case <-b.deb.kick:
	case <-time.After(5 * time.Second):
		t.Fatal("no retry was scheduled after a failed publish")
	}
	b.rebuild(ctx, time.Now())
	if calls != 2 {
		t.Fatalf("Publish called %d times, want 2: the equal table must be handed over again", calls)
	}
	b.rebuild(ctx, time.Now())
	if calls != 2 {
		t.Fatalf("Publish called %d times after it succeeded, want still 2", calls)
	}
}

// A HostnameClaim read from the cluster decides who serves its hostname: a
// newer Ingress of the holder's namespace takes it from an older one of
// another namespace.
func TestSnapshotReadsHostnameClaims(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pylonv1alpha1.AddToScheme(scheme))
	ing := func(ns string, created time.Time) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "site", CreationTimestamp: metav1.NewTime(created)},
			Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To("pylon"), Rules: []networkingv1.IngressRule{{Host: "shop.example.com"}}},
		}
	}
	objs := []client.Object{
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: networkingv1.IngressClassSpec{Controller: translate.IngressControllerName}},
		ing("early", time.Unix(1_000, 0)), ing("holder", time.Unix(2_000, 0)),
		&pylonv1alpha1.HostnameClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com"},
			Spec:       pylonv1alpha1.HostnameClaimSpec{Hostname: "shop.example.com", WebApp: pylonv1alpha1.WebAppReference{Namespace: "holder", Name: "shop", UID: "u"}},
		},
	}
	for _, claims := range []bool{false, true} {
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
		var st translate.StatusUpdates
		b := &Builder{
			Reader: c, HostnameClaims: claims,
			Status: func(s translate.StatusUpdates) { st = s },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			deb:    newDebouncer(time.Second, time.Second),
		}
		b.rebuild(ctx, time.Now())
		loser := "holder"
		if claims {
			loser = "early"
		}
		if len(st.Rejections) != 1 || st.Rejections[0].Namespace != loser {
			t.Fatalf("HostnameClaims=%v: rejections %+v, want the Ingress of %s", claims, st.Rejections, loser)
		}
	}
}
