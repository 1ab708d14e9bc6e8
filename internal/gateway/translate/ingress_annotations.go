package translate

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/pylon-dev/pylon/internal/contract"
)

// ingress-nginx annotations, by what the gateway does with them. An Ingress
// carrying an annotation the gateway does not implement and that decides
// who may reach the app, or where and how requests go, is refused as a
// whole: serving it without the annotation would serve it half-way (an app
// meant to sit behind authentication served to everyone, a rewrite not
// applied). Annotations that only tune performance or logging are ignored.
// Any other annotation under the prefix is refused too: the gateway cannot
// know what an annotation it has never heard of does.

// implementedAnnotations are read by the translator.
var implementedAnnotations = []string{
	contract.AnnotationCanary,
	contract.AnnotationCanaryWeight,
	contract.AnnotationCanaryWeightTotal,
	contract.AnnotationCanaryByHeader,
	contract.AnnotationCanaryByHeaderValue,
	contract.AnnotationSSLRedirect,
	contract.AnnotationForceSSLRedirect,
}

// ignoredAnnotations (names after the prefix) tune timeouts, buffering and
// logging: the gateway's own settings apply instead, and nobody is let in
// or routed elsewhere because of it.
var ignoredAnnotations = []string{
	"proxy-connect-timeout", "proxy-read-timeout", "proxy-send-timeout",
	"proxy-next-upstream", "proxy-next-upstream-timeout", "proxy-next-upstream-tries",
	"proxy-buffering", "proxy-buffer-size", "proxy-buffers-number", "proxy-request-buffering",
	"proxy-max-temp-file-size", "proxy-http-version", "client-body-buffer-size",
	"connection-proxy-header", "enable-access-log", "enable-rewrite-log",
	"enable-opentelemetry", "opentelemetry-trust-incoming-span", "enable-opentracing", "opentracing-trust-incoming-span",
	"service-upstream",
}

// refusedAnnotation is the name (after the ingress-nginx prefix) of a
// refused annotation, or with prefix set the start of such names, and why
// it cannot be ignored.
type refusedAnnotation struct {
	name   string
	prefix bool
	why    string
}

const (
	whyAccess  = "it decides who may reach the app"
	whyLimit   = "it limits what clients may send"
	whyRouting = "it changes where or how requests are routed"
	whySnippet = "it injects nginx configuration"
)

// refusedAnnotations are the annotations known to change security or
// routing. Unknown annotations are refused as well; this list gives the
// reason.
var refusedAnnotations = []refusedAnnotation{
	{name: "auth-", prefix: true, why: whyAccess},
	{name: "whitelist-source-range", why: whyAccess},
	{name: "allowlist-source-range", why: whyAccess},
	{name: "denylist-source-range", why: whyAccess},
	{name: "satisfy", why: whyAccess},
	{name: "limit-", prefix: true, why: whyLimit},
	{name: "global-rate-limit", prefix: true, why: whyLimit},
	{name: "proxy-body-size", why: whyLimit},
	{name: "enable-cors", why: whyAccess},
	{name: "cors-", prefix: true, why: whyAccess},
	{name: "enable-modsecurity", why: whyAccess},
	{name: "enable-owasp-core-rules", why: whyAccess},
	{name: "modsecurity-", prefix: true, why: whyAccess},
	{name: "configuration-snippet", why: whySnippet},
	{name: "server-snippet", why: whySnippet},
	{name: "stream-snippet", why: whySnippet},
	{name: "rewrite-target", why: whyRouting},
	{name: "use-regex", why: whyRouting},
	{name: "app-root", why: whyRouting},
	{name: "permanent-redirect", prefix: true, why: whyRouting},
	{name: "temporal-redirect", prefix: true, why: whyRouting},
	{name: "from-to-www-redirect", why: whyRouting},
	{name: "upstream-vhost", why: whyRouting},
	{name: "backend-protocol", why: whyRouting},
	{name: "default-backend", why: whyRouting},
	{name: "custom-http-errors", why: whyRouting},
	{name: "x-forwarded-prefix", why: whyRouting},
	{name: "server-alias", why: whyRouting},
	{name: "ssl-passthrough", why: whyRouting},
	{name: "preserve-trailing-slash", why: whyRouting},
	{name: "canary-by-cookie", why: whyRouting},
	{name: "canary-by-header-pattern", why: whyRouting},
	{name: "affinity", prefix: true, why: whyRouting},
	{name: "session-cookie-", prefix: true, why: whyRouting},
	{name: "upstream-hash-by", prefix: true, why: whyRouting},
	{name: "load-balance", why: whyRouting},
	{name: "mirror-", prefix: true, why: whyRouting},
	{name: "proxy-redirect-", prefix: true, why: whyRouting},
	{name: "proxy-cookie-", prefix: true, why: whyRouting},
	{name: "proxy-ssl-", prefix: true, why: whyRouting},
}

// nginxAnnotationPrefix is ingress-nginx's default annotation prefix.
const nginxAnnotationPrefix = "nginx.ingress.kubernetes.io/"

// ingressRefusal explains why an Ingress is not served, "" when it is:
// every ingress-nginx annotation it carries that the gateway neither
// implements nor may safely ignore, sorted, with the reason.
func ingressRefusal(ing *networkingv1.Ingress) string {
	var parts []string
	for key := range ing.Annotations {
		name, ok := strings.CutPrefix(key, nginxAnnotationPrefix)
		if !ok || slices.Contains(implementedAnnotations, key) || slices.Contains(ignoredAnnotations, name) {
			continue
		}
		why := "the gateway does not know what it does"
		for _, r := range refusedAnnotations {
			if name == r.name || (r.prefix && strings.HasPrefix(name, r.name)) {
				why = r.why
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", key, why))
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	noun, pronoun := "annotation", "it"
	if len(parts) > 1 {
		noun, pronoun = "annotations", "them"
	}
	return fmt.Sprintf("not served: Pylon's gateway does not implement %s %s; remove %s or use an IngressClass of ingress-nginx",
		noun, strings.Join(parts, ", "), pronoun)
}
