package translate

import (
	"net/http"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// acmeChallengePath is never redirected to HTTPS, as in ingress-nginx
// (no-tls-redirect-locations): ACME HTTP-01 validation must reach the
// solver over plain HTTP while the certificate does not exist yet.
const acmeChallengePath = "/.well-known/acme-challenge"

// tlsHosts are the hosts Ingresses declare TLS for.
type tlsHosts struct {
	// patterns are the hosts listed in TLS entries (exact or "*.suffix").
	patterns []string
	// catchAll holds the Ingresses with a TLS entry without hosts: for
	// them, every host of their own rules (and their default backend) has
	// TLS.
	catchAll map[*networkingv1.Ingress]bool
}

// ingressTLSHosts collects the TLS declarations of the served primaries.
// What counts is the declaration, not whether its Secret loads: a host the
// user wants on HTTPS is never answered over plain HTTP because a
// certificate is missing (ingress-nginx serves its default certificate
// then, and redirects as well).
func ingressTLSHosts(ings []*networkingv1.Ingress) tlsHosts {
	t := tlsHosts{catchAll: map[*networkingv1.Ingress]bool{}}
	for _, ing := range ings {
		for _, tl := range ing.Spec.TLS {
			if len(tl.Hosts) == 0 {
				t.catchAll[ing] = true
			}
			for _, h := range tl.Hosts {
				t.patterns = append(t.patterns, strings.ToLower(h))
			}
		}
	}
	return t
}

// covers says whether host, a host of ing's rules ("" for no host), has TLS.
func (t tlsHosts) covers(ing *networkingv1.Ingress, host string) bool {
	if t.catchAll[ing] {
		return true
	}
	for _, p := range t.patterns {
		if p == host || (host != "" && ir.IsWildcard(p) && ir.PatternCovers(p, host)) {
			return true
		}
	}
	return false
}

// redirectsToHTTPS applies ingress-nginx's ssl-redirect (default true, for
// hosts with TLS) and force-ssl-redirect (default false, for every host) to
// one path of a primary Ingress on the plain-HTTP port. Unparsable values
// keep the default, as in ingress-nginx.
func redirectsToHTTPS(ing *networkingv1.Ingress, host string, path ir.PathMatch, tls tlsHosts) bool {
	if path.Value == acmeChallengePath || strings.HasPrefix(path.Value, acmeChallengePath+"/") {
		return false
	}
	if boolAnnotation(ing, contract.AnnotationForceSSLRedirect, false) {
		return true
	}
	return boolAnnotation(ing, contract.AnnotationSSLRedirect, true) && tls.covers(ing, host)
}

func boolAnnotation(ing *networkingv1.Ingress, key string, def bool) bool {
	v, ok := ing.Annotations[key]
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// httpsRedirect answers with a 308 (ingress-nginx's default
// http-redirect-code, which keeps the method and body) to the same host,
// path and query on the HTTPS port.
func httpsRedirect(httpsPort int32) *ir.Action {
	return ir.NewAction(&ir.Action{Redirect: &ir.Redirect{Scheme: "https", Port: ptrTo(httpsPort), StatusCode: http.StatusPermanentRedirect}})
}
