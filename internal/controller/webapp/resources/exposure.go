package resources

import (
	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// Exposure is everything the reconciler resolved about how a WebApp is
// exposed. The exposure builders read nothing else, so they stay pure.
type Exposure struct {
	// Class is the resolved ExposureClass; nil: the app is reachable inside
	// the cluster only.
	Class *pylonv1alpha1.ExposureClass
	// Hostname is the hostname the WebApp holds; "" when it holds none, and
	// then it gets no route, certificate or DNS record.
	Hostname string
	// TLS is the effective TLS configuration.
	TLS TLS
	// IngressCanary says the Ingress controller understands ingress-nginx's
	// canary annotations.
	IngressCanary bool
	// Canary is the canary the routes split traffic with, at its effective
	// weight.
	Canary Canary
	// DNSTargets are the addresses the hostname's record points at: the
	// Gateway's or Ingress's, "" entries never.
	DNSTargets []string
	// APIs says which optional APIs the cluster serves.
	APIs APIs
}

// APIs are the optional APIs the cluster serves.
type APIs struct {
	GatewayAPI, CertManager, ExternalDNS bool
}

// TLS is the effective TLS configuration of a WebApp.
type TLS struct {
	Mode       pylonv1alpha1.TLSMode
	SecretName string
	Issuer     *pylonv1alpha1.IssuerReference
	Redirect   bool
}

// Enabled reports whether the hostname is served over HTTPS.
func (t TLS) Enabled() bool {
	return t.Mode == pylonv1alpha1.TLSAuto || t.Mode == pylonv1alpha1.TLSSecret
}

// EffectiveTLS merges the WebApp's TLS settings with its class's defaults.
func EffectiveTLS(app *pylonv1alpha1.WebApp, class *pylonv1alpha1.ExposureClass) TLS {
	t := TLS{Mode: pylonv1alpha1.TLSDisabled, SecretName: names.TLSSecret(app), Redirect: true}
	if class != nil && class.Spec.TLS != nil {
		if class.Spec.TLS.DefaultMode != "" {
			t.Mode = class.Spec.TLS.DefaultMode
		}
		t.Issuer = class.Spec.TLS.IssuerRef
	}
	if s := app.Spec.TLS; s != nil {
		if s.Mode != "" {
			t.Mode = s.Mode
		}
		if s.SecretName != "" {
			t.SecretName = s.SecretName
		}
		if s.IssuerRef != nil {
			t.Issuer = s.IssuerRef
		}
		if s.RedirectHTTP != nil {
			t.Redirect = *s.RedirectHTTP
		}
	}
	return t
}

// routeType is the class type that decides the routing children, "" when
// the app gets none.
func (e Exposure) routeType() pylonv1alpha1.ExposureType {
	if e.Class == nil || e.Hostname == "" {
		return ""
	}
	return e.Class.Spec.Type
}

// dnsMode is the class's DNS mode, None when it publishes nothing.
func (e Exposure) dnsMode() pylonv1alpha1.DNSMode {
	if e.Class == nil || e.Class.Spec.DNS == nil || e.Class.Spec.DNS.Mode == "" {
		return pylonv1alpha1.DNSNone
	}
	return e.Class.Spec.DNS.Mode
}

// dnsTTL is the record TTL in seconds.
func (e Exposure) dnsTTL() int64 {
	if e.Class == nil || e.Class.Spec.DNS == nil || e.Class.Spec.DNS.TTL == 0 {
		return 300
	}
	return e.Class.Spec.DNS.TTL
}
