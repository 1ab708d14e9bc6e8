package resources

import (
	"slices"

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
	// Issuer is the issuer certificates are requested from: nil when none
	// is named, or when the one the WebApp names is refused.
	Issuer *pylonv1alpha1.IssuerReference
	// RefusedIssuer is the issuer the WebApp named that its class does not
	// allow; Issuer is nil then, so no Certificate is made with it.
	RefusedIssuer *pylonv1alpha1.IssuerReference
	Redirect      bool
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
			if IssuerAllowed(class, *s.IssuerRef) {
				t.Issuer = s.IssuerRef
			} else {
				t.Issuer, t.RefusedIssuer = nil, s.IssuerRef
			}
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

// AllowedIssuers are the issuers a WebApp of class may name, normalised
// (kind and group defaulted): the class's own issuerRef, then its
// allowedIssuers, without duplicates.
func AllowedIssuers(class *pylonv1alpha1.ExposureClass) []pylonv1alpha1.IssuerReference {
	if class == nil || class.Spec.TLS == nil {
		return nil
	}
	var out []pylonv1alpha1.IssuerReference
	add := func(r pylonv1alpha1.IssuerReference) {
		if n := NormalizeIssuer(r); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if class.Spec.TLS.IssuerRef != nil {
		add(*class.Spec.TLS.IssuerRef)
	}
	for _, r := range class.Spec.TLS.AllowedIssuers {
		add(r)
	}
	return out
}

// IssuerAllowed says whether a WebApp of class may name issuer ref. Without
// a class there is no policy (and no Certificate either).
func IssuerAllowed(class *pylonv1alpha1.ExposureClass, ref pylonv1alpha1.IssuerReference) bool {
	if class == nil {
		return true
	}
	return slices.Contains(AllowedIssuers(class), NormalizeIssuer(ref))
}

// NormalizeIssuer applies the API's defaults: kind ClusterIssuer, group
// cert-manager.io.
func NormalizeIssuer(r pylonv1alpha1.IssuerReference) pylonv1alpha1.IssuerReference {
	if r.Kind == "" {
		r.Kind = "ClusterIssuer"
	}
	if r.Group == "" {
		r.Group = "cert-manager.io"
	}
	return r
}
