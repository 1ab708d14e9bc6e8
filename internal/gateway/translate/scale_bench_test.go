package translate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// The table-scale benchmarks time what a gateway does on every change of
// the world: translate the Gateway API objects into the IR (which
// finalizes the table), validate it and publish it to the proxy. The
// world is shaped like a busy cluster: hosts spread over namespaces,
// each namespace with a wildcard route and a route for its apex name, one
// catch-all route without hostname, every host served on HTTP and HTTPS (a wildcard certificate),
// two rules per route (a prefix and a header-matched API path) and two
// endpoints per Service. Compare the figures at 10k and 20k hosts: the
// work must grow no faster than n log n (ratio ≈ 2).
func BenchmarkTable1k(b *testing.B)  { benchTable(b, 1_000) }
func BenchmarkTable10k(b *testing.B) { benchTable(b, 10_000) }
func BenchmarkTable20k(b *testing.B) { benchTable(b, 20_000) }

const scaleNamespaces = 20

func benchTable(b *testing.B, hosts int) {
	snap := scaleSnapshot(b, hosts)
	p := proxy.New(proxy.Options{})
	// One table published before timing: later publishes carry state
	// across, as a running gateway's do.
	t, _ := translate.Translate(snap)
	p.Publish(t)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for b.Loop() {
		t, _ := translate.Translate(snap)
		if err := t.Validate(); err != nil {
			b.Fatalf("invalid table: %v", err)
		}
		p.Publish(t)
	}
	b.StopTimer()
	// CPU time (user + system, all threads: GC included) per table, the
	// figure that survives a shared machine: wall time there is mostly
	// waiting for a core.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	// The table must hold every host on both listeners, else the
	// benchmark measured a smaller world than it claims.
	vhosts := 0
	for _, l := range t.Listeners {
		vhosts += len(l.VirtualHosts)
	}
	if want := 2 * (hosts + 2*scaleNamespaces + 1); vhosts != want {
		b.Fatalf("table has %d virtual hosts, want %d", vhosts, want)
	}
	b.ReportMetric(float64(hosts), "hosts")
}

// cpuTime is the process's CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scaleSnapshot builds the world described above with hosts exact hosts.
func scaleSnapshot(tb testing.TB, hosts int) *translate.Snapshot {
	tb.Helper()
	cert, err := os.ReadFile(filepath.Join("testdata", "tls", "cert.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join("testdata", "tls", "key.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	const gwNS = "infra"
	s := &translate.Snapshot{
		GatewayClasses: []*gwv1.GatewayClass{{
			ObjectMeta: metav1.ObjectMeta{Name: "pylon", Generation: 1},
			Spec:       gwv1.GatewayClassSpec{ControllerName: translate.ControllerName},
		}},
		Secrets: []*corev1.Secret{{
			ObjectMeta: metav1.ObjectMeta{Name: "wild-tls", Namespace: gwNS},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key},
		}},
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: gwNS}}},
		Options: translate.Options{GatewayAddresses: map[types.NamespacedName][]gwv1.GatewayStatusAddress{
			{Namespace: gwNS, Name: "public"}: {{Type: ptr.To(gwv1.IPAddressType), Value: "192.0.2.10"}},
		}},
	}
	all := &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
	s.Gateways = []*gwv1.Gateway{{
		ObjectMeta: metav1.ObjectMeta{Name: "public", Namespace: gwNS, Generation: 1},
		Spec: gwv1.GatewaySpec{GatewayClassName: "pylon", Listeners: []gwv1.Listener{
			{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, AllowedRoutes: all},
			{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, AllowedRoutes: all,
				TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModeTerminate),
					CertificateRefs: []gwv1.SecretObjectReference{{Name: "wild-tls"}}}},
		}},
	}}
	created := metav1.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	route := func(ns, name, svc string, host string, i int) {
		r := &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1,
				CreationTimestamp: metav1.NewTime(created.Add(time.Duration(i) * time.Second))},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "public", Namespace: ptr.To(gwv1.Namespace(gwNS))}}},
				Rules: []gwv1.HTTPRouteRule{
					{
						Matches: []gwv1.HTTPRouteMatch{{
							Path:    &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")},
							Headers: []gwv1.HTTPHeaderMatch{{Name: "X-Api-Version", Value: "2"}},
						}},
						BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
							Name: gwv1.ObjectName(svc), Port: ptr.To(gwv1.PortNumber(80))}}}},
					},
					{
						Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/")}}},
						BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
							Name: gwv1.ObjectName(svc), Port: ptr.To(gwv1.PortNumber(80))}}}},
					},
				},
			},
		}
		if host != "" {
			r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(host)}
		}
		s.HTTPRoutes = append(s.HTTPRoutes, r)
		s.Services = append(s.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns},
			Spec:       corev1.ServiceSpec{ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250%250, i%250+1), Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
		})
		s.EndpointSlices = append(s.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: svc + "-abcde", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{fmt.Sprintf("10.244.%d.%d", i/250%250, i%250+1)}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
				{Addresses: []string{fmt.Sprintf("10.245.%d.%d", i/250%250, i%250+1)}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			},
		})
	}
	for k := range scaleNamespaces {
		ns := fmt.Sprintf("team-%d", k)
		s.Namespaces = append(s.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		route(ns, "wildcard", "wildcard", fmt.Sprintf("*.team-%d.example.test", k), hosts+k)
		route(ns, "apex", "apex", fmt.Sprintf("team-%d.example.test", k), hosts+scaleNamespaces+k)
	}
	route(gwNS, "default", "default", "", hosts+2*scaleNamespaces)
	for i := range hosts {
		ns := fmt.Sprintf("team-%d", i%scaleNamespaces)
		name := fmt.Sprintf("app-%d", i)
		route(ns, name, name, fmt.Sprintf("app-%d.%s.example.test", i, ns), i)
	}
	return s
}
