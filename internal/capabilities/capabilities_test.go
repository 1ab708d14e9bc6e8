package capabilities

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
)

func TestForCRD(t *testing.T) {
	for name, want := range map[string]string{
		"httproutes.gateway.networking.k8s.io":   GatewayAPI.Name,
		"listenersets.gateway.networking.k8s.io": GatewayAPI.Name,
		"certificates.cert-manager.io":           CertManager.Name,
		"dnsendpoints.externaldns.k8s.io":        ExternalDNS.Name,
		"issuers.cert-manager.io":                "",
		"webapps.pylon.dev":                      "",
	} {
		api, ok := ForCRD(name)
		if ok != (want != "") || api.Name != want {
			t.Errorf("ForCRD(%q) = %q, %v; want %q", name, api.Name, ok, want)
		}
	}
}

// The discovery client here is client-go's fake (a stand-in for the API
// server's discovery endpoint); the logic under test is Set's.
func TestRefreshNeedsEveryResourceAndReportsOnlyNewAPIs(t *testing.T) {
	fake := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	set := NewSet(fake)
	gw := func(resources ...string) *metav1.APIResourceList {
		l := &metav1.APIResourceList{GroupVersion: GatewayAPI.GroupVersion.String()}
		for _, r := range resources {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: r})
		}
		return l
	}

	// Gateway API without ListenerSet (an older release): not enough.
	fake.Resources = []*metav1.APIResourceList{gw("gateways", "httproutes")}
	added, err := set.Refresh(context.Background())
	if err != nil || len(added) != 0 || set.Has(GatewayAPI) {
		t.Fatalf("partial Gateway API counted as present: added %v, err %v", added, err)
	}

	// The full standard channel plus cert-manager.
	fake.Resources = []*metav1.APIResourceList{
		gw("gateways", "httproutes", "listenersets"),
		{GroupVersion: CertManager.GroupVersion.String(), APIResources: []metav1.APIResource{{Name: "certificates"}}},
	}
	added, err = set.Refresh(context.Background())
	if err != nil || len(added) != 2 || !set.Has(GatewayAPI) || !set.Has(CertManager) || set.Has(ExternalDNS) {
		t.Fatalf("added %v, err %v", added, err)
	}

	// Nothing new: nothing reported again.
	if added, err = set.Refresh(context.Background()); err != nil || len(added) != 0 {
		t.Fatalf("second refresh reported %v (err %v)", added, err)
	}
}
