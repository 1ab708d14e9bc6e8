package translate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

const (
	kindIngress = "Ingress"
	// ingressListenerKey names the synthetic listener all Ingresses share.
	ingressListenerKey = "Ingress"

	annotationIngressClass = "kubernetes.io/ingress.class"
	annotationDefaultClass = "ingressclass.kubernetes.io/is-default-class"
)

// processIngresses serves the Ingresses of our IngressClasses on the
// ingress HTTP port, and on the HTTPS port when any of them has TLS. All
// Ingresses form one listener with no hostname: Ingress has no listener
// isolation, hosts and paths decide.
func (t *translator) processIngresses() {
	mine := t.ingressesOfOurClasses()
	if len(mine) == 0 {
		return
	}
	refused := map[*networkingv1.Ingress]string{}
	var primaries, canaries []*networkingv1.Ingress
	for _, ing := range mine {
		if why := ingressRefusal(ing); why != "" {
			refused[ing] = why
			continue
		}
		if ing.Annotations[contract.AnnotationCanary] == "true" {
			canaries = append(canaries, ing)
		} else {
			primaries = append(primaries, ing)
		}
	}

	// Ingresses are served on the shared address.
	httpAt := ir.ListenerKey{Port: t.ix.opts.ingressHTTPPort()}
	httpsAt := ir.ListenerKey{Port: t.ix.opts.ingressHTTPSPort()}
	var ports []*portBuilder
	if t.claimPort(httpAt, gwv1.HTTPProtocolType) {
		ports = append(ports, t.table.port(httpAt, ir.ProtocolHTTP))
	}
	if certs := t.ingressCertificates(primaries); len(certs) > 0 && t.claimPort(httpsAt, gwv1.HTTPSProtocolType) {
		p := t.table.port(httpsAt, ir.ProtocolHTTPS)
		for _, c := range certs {
			p.addCertificate(c.Hostname, c.Pairs)
		}
		ports = append(ports, p)
	}
	for _, p := range ports {
		p.addListener("", ingressListenerKey, nil)
		p.strict[""] = true
	}
	// An Ingress is served for the hosts its namespace owns; one that asks
	// only for hosts of other namespaces is not served at all and gets no
	// address (Ingress has no condition to say why: it is reported in
	// Rejections, which the status writer logs and records as an Event).
	rejected := map[*networkingv1.Ingress]bool{}
	for _, ing := range mine {
		if why, ok := refused[ing]; ok {
			// Never served half-way: no routes, no address, and the
			// reason in an Event.
			rejected[ing] = true
			t.status.Rejections = append(t.status.Rejections, Rejection{
				Kind: kindIngress, Namespace: ing.Namespace, Name: ing.Name,
				Reason: ReasonUnsupportedAnnotation, Message: why,
			})
			continue
		}
		hosts := ingressHosts(ing)
		var denied []string
		for _, h := range hosts {
			if o := t.owners.ownerOf(h); o != "" && o != ing.Namespace {
				denied = append(denied, h)
			}
		}
		if len(denied) == 0 {
			continue
		}
		what := "some of its hosts are not served: "
		if len(denied) == len(hosts) {
			rejected[ing] = true
			what = "not served: "
		}
		t.status.Rejections = append(t.status.Rejections, Rejection{
			Kind: kindIngress, Namespace: ing.Namespace, Name: ing.Name,
			Reason: contract.ReasonHostnameOwnedByAnotherNamespace, Message: what + t.deniedMessage(denied),
		})
	}
	tls := ingressTLSHosts(primaries)
	for _, ing := range primaries {
		for _, e := range t.ingressRoutes(ing, canaries) {
			owner := t.owners.ownerOf(e.host)
			if owner != "" && owner != ing.Namespace {
				continue
			}
			for _, p := range ports {
				r := *e.route
				if p.listener.Protocol == ir.ProtocolHTTP && redirectsToHTTPS(ing, e.host, r.Path, tls) {
					r.Action = httpsRedirect(httpsAt.Port)
				}
				p.addRoute("", ingressListenerKey, e.host, &r, owner)
			}
		}
	}

	for _, ing := range sortedByName(mine) {
		if rejected[ing] {
			continue
		}
		t.status.Ingresses = append(t.status.Ingresses, IngressStatus{
			Namespace:    ing.Namespace,
			Name:         ing.Name,
			LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: slices.Clone(t.ix.opts.IngressLoadBalancer)},
		})
	}
}

// claimPort lets Ingresses use a port unless a Gateway took it with another
// protocol.
func (t *translator) claimPort(at ir.ListenerKey, proto gwv1.ProtocolType) bool {
	c, taken := t.ports[at]
	if taken {
		return c.protocol == proto
	}
	t.ports[at] = portClaim{protocol: proto, owner: ingressListenerKey}
	return true
}

// ingressesOfOurClasses selects Ingresses by spec.ingressClassName, the
// legacy annotation, or, with neither, our default IngressClass.
func (t *translator) ingressesOfOurClasses() []*networkingv1.Ingress {
	ours := map[string]bool{}
	hasDefault := false
	for _, ic := range t.snap.IngressClasses {
		if ic == nil || ic.Spec.Controller != IngressControllerName {
			continue
		}
		ours[ic.Name] = true
		if ic.Annotations[annotationDefaultClass] == "true" {
			hasDefault = true
		}
	}
	var out []*networkingv1.Ingress
	for _, ing := range sortedObjects(t.snap.Ingresses) {
		class, set := "", false
		if ing.Spec.IngressClassName != nil {
			class, set = *ing.Spec.IngressClassName, true
		} else if v, ok := ing.Annotations[annotationIngressClass]; ok {
			class, set = v, true
		}
		if (set && ours[class]) || (!set && hasDefault) {
			out = append(out, ing)
		}
	}
	return out
}

// ingressCertificates loads the TLS Secrets of primary Ingresses; a bad
// Secret is skipped (Ingress has no condition to report it on). The oldest
// Ingress wins a host.
func (t *translator) ingressCertificates(ings []*networkingv1.Ingress) []*ir.Certificate {
	var out []*ir.Certificate
	seen := map[string]bool{}
	for _, ing := range ings {
		for _, tl := range ing.Spec.TLS {
			sec := t.ix.secrets[nn(ing.Namespace, tl.SecretName)]
			if sec == nil || tl.SecretName == "" {
				continue
			}
			pair, err := keyPairFromSecret(sec)
			if err != nil {
				continue
			}
			hosts := tl.Hosts
			if len(hosts) == 0 {
				hosts = []string{""}
			}
			for _, h := range hosts {
				h = strings.ToLower(h)
				if !seen[h] {
					seen[h] = true
					out = append(out, &ir.Certificate{Hostname: h, Pairs: []ir.KeyPair{pair}})
				}
			}
		}
	}
	return out
}

// ingressEntry is one compiled Ingress path for one host.
type ingressEntry struct {
	host  string
	route *ir.Route
}

// ingressRoutes compiles an Ingress's rules and default backend, merging
// the canaries that target the same host and path.
func (t *translator) ingressRoutes(ing *networkingv1.Ingress, canaries []*networkingv1.Ingress) []ingressEntry {
	var out []ingressEntry
	src := func(rule, match int) ir.Source {
		return ir.Source{Kind: kindIngress, Namespace: ing.Namespace, Name: ing.Name, CreationTimestamp: ing.CreationTimestamp.UTC(), Rule: rule, Match: match}
	}
	for ri, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		host := strings.ToLower(rule.Host)
		for pi, p := range rule.HTTP.Paths {
			pm, err := ingressPath(p)
			if err != nil {
				continue
			}
			primary := t.ingressBackend(ing.Namespace, p.Backend)
			c := findCanary(canaries, ing.Namespace, host, pm)
			out = append(out, t.canaryEntries(host, pm, src(ri, pi), primary, c)...)
		}
	}
	if ing.Spec.DefaultBackend != nil {
		pm, _ := ir.NewPathMatch(ir.PathPrefix, "/")
		b := t.ingressBackend(ing.Namespace, *ing.Spec.DefaultBackend)
		out = append(out, ingressEntry{host: "", route: &ir.Route{
			Source: src(len(ing.Spec.Rules), 0), Path: pm, Action: forward(b),
		}})
	}
	return out
}

// ingressPath maps Ingress path types: ImplementationSpecific (and unset)
// behave like Prefix, which element-wise matching already implements.
func ingressPath(p networkingv1.HTTPIngressPath) (ir.PathMatch, error) {
	value := p.Path
	if value == "" {
		value = "/"
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return ir.NewPathMatch(ir.PathExact, value)
	}
	return ir.NewPathMatch(ir.PathPrefix, value)
}

// ingressBackend resolves an Ingress backend; anything unusable becomes an
// invalid backend (500), the same contract as HTTPRoute.
func (t *translator) ingressBackend(ns string, ib networkingv1.IngressBackend) *ir.Backend {
	if ib.Service == nil {
		name := ""
		if ib.Resource != nil {
			name = ib.Resource.Name
		}
		return &ir.Backend{Namespace: ns, Name: name, Weight: 1, Invalid: true, InvalidReason: "resource backends are not supported"}
	}
	b := &ir.Backend{Namespace: ns, Name: ib.Service.Name, Port: ib.Service.Port.Number, Weight: 1}
	fail := func(_ gwv1.RouteConditionReason, format string, a ...any) (*ir.Backend, *badRef) {
		b.Invalid, b.InvalidReason = true, fmt.Sprintf(format, a...)
		return b, nil
	}
	pick := func(sp corev1.ServicePort) bool { return sp.Port == ib.Service.Port.Number }
	desc := fmt.Sprintf("%d", ib.Service.Port.Number)
	if ib.Service.Port.Name != "" {
		pick = func(sp corev1.ServicePort) bool { return sp.Name == ib.Service.Port.Name }
		desc = ib.Service.Port.Name
	}
	out, _ := t.resolveService(b, fail, pick, desc)
	return out
}

// forward is an Ingress path's action: no filters, a weighted choice.
func forward(backends ...*ir.Backend) *ir.Action { return ir.NewAction(nil, backends...) }
