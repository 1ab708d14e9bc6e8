package translate

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIngressRefusal(t *testing.T) {
	for _, c := range []struct {
		annotations map[string]string
		// want are substrings of the refusal; none: served.
		want []string
	}{
		{annotations: nil},
		{annotations: map[string]string{
			"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10",
			"nginx.ingress.kubernetes.io/canary-weight-total": "100", "nginx.ingress.kubernetes.io/canary-by-header": "x",
			"nginx.ingress.kubernetes.io/canary-by-header-value": "y", "nginx.ingress.kubernetes.io/ssl-redirect": "false",
			"nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
		}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-read-timeout": "60", "nginx.ingress.kubernetes.io/enable-access-log": "false"}},
		{annotations: map[string]string{"external-dns.alpha.kubernetes.io/hostname": "a.example.com", "cert-manager.io/cluster-issuer": "le"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/auth-tls-secret": "ns/ca"}, want: []string{"annotation nginx.ingress.kubernetes.io/auth-tls-secret (it decides who may reach the app); remove it"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8"}, want: []string{"whitelist-source-range (it decides who may reach the app)"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "deny all;"}, want: []string{"server-snippet (it injects nginx configuration)"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/limit-rps": "5"}, want: []string{"limit-rps (it limits what clients may send)"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/permanent-redirect": "https://x"}, want: []string{"permanent-redirect (it changes where or how requests are routed)"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/brand-new": "1"}, want: []string{"brand-new (the gateway does not know what it does)"}},
		{annotations: map[string]string{"nginx.ingress.kubernetes.io/use-regex": "true", "nginx.ingress.kubernetes.io/app-root": "/x"},
			want: []string{"annotations nginx.ingress.kubernetes.io/app-root (it changes where or how requests are routed), nginx.ingress.kubernetes.io/use-regex", "remove them"}},
	} {
		got := ingressRefusal(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: c.annotations}})
		if len(c.want) == 0 {
			if got != "" {
				t.Errorf("%v refused: %s", c.annotations, got)
			}
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: refusal %q does not contain %q", c.annotations, got, w)
			}
		}
	}
}

func TestTLSHostsCover(t *testing.T) {
	withHosts := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: []string{"Shop.example.com", "*.apps.example.com"}}}}}
	noHosts := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{SecretName: "s"}}}}
	other := &networkingv1.Ingress{}
	tls := ingressTLSHosts([]*networkingv1.Ingress{withHosts, noHosts, other})
	for _, c := range []struct {
		ing  *networkingv1.Ingress
		host string
		want bool
	}{
		{other, "shop.example.com", true}, // TLS is the host's, whichever Ingress declares it
		{other, "a.apps.example.com", true},
		{other, "apps.example.com", false},
		{other, "plain.example.com", false},
		{other, "", false},
		{withHosts, "", false},
		{noHosts, "anything.example.com", true}, // a TLS entry without hosts covers the Ingress's own hosts
		{noHosts, "", true},
	} {
		if got := tls.covers(c.ing, c.host); got != c.want {
			t.Errorf("covers(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}
