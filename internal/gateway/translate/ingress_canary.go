package translate

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// canary is an ingress-nginx style canary Ingress's backend for one host
// and path, with its annotations parsed.
type canary struct {
	ing         *networkingv1.Ingress
	backend     networkingv1.IngressBackend
	weight      int32
	hasWeight   bool
	total       int32
	header      string
	headerValue string
}

// findCanary returns the oldest canary Ingress of the primary's namespace
// with a rule for the same host and path (ingress-nginx supports one canary
// per primary path). A canary of another namespace never joins: it would
// take a share of traffic for a hostname that namespace does not own.
func findCanary(canaries []*networkingv1.Ingress, ns, host string, pm ir.PathMatch) *canary {
	for _, ing := range canaries {
		if ing.Namespace != ns {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil || strings.ToLower(rule.Host) != host {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				cpm, err := ingressPath(p)
				if err != nil || cpm.Type != pm.Type || cpm.Value != pm.Value {
					continue
				}
				return parseCanary(ing, p.Backend)
			}
		}
	}
	return nil
}

func parseCanary(ing *networkingv1.Ingress, b networkingv1.IngressBackend) *canary {
	c := &canary{ing: ing, backend: b, total: contract.WeightTotal}
	a := ing.Annotations
	if v, err := strconv.ParseInt(a[contract.AnnotationCanaryWeightTotal], 10, 32); err == nil && v > 0 {
		c.total = int32(v)
	}
	if v, err := strconv.ParseInt(a[contract.AnnotationCanaryWeight], 10, 32); err == nil {
		c.weight = min(max(int32(v), 0), c.total)
		c.hasWeight = true
	}
	c.header = a[contract.AnnotationCanaryByHeader]
	c.headerValue = a[contract.AnnotationCanaryByHeaderValue]
	return c
}

// canaryEntries builds the routes for one primary path. Header rules become
// extra routes with a header match, which precedence puts in front of the
// plain path; the weight splits the plain path between primary and canary.
// ingress-nginx semantics: with canary-by-header-value the header must
// equal it; without, "always" selects the canary and "never" the primary.
func (t *translator) canaryEntries(host string, pm ir.PathMatch, src ir.Source, primary *ir.Backend, c *canary) []ingressEntry {
	route := func(a *ir.Action, headers ...ir.ValueMatch) ingressEntry {
		return ingressEntry{host: host, route: &ir.Route{Source: src, Path: pm, Headers: headers, Action: a}}
	}
	if c == nil {
		return []ingressEntry{route(forward(primary))}
	}
	canaryBackend := func(weight int32) *ir.Backend {
		b := t.ingressBackend(c.ing.Namespace, c.backend)
		b.Weight = weight
		return b
	}
	var out []ingressEntry
	if c.header != "" {
		if c.headerValue != "" {
			if hm, err := ir.NewHeaderMatch(ir.ValueExact, c.header, c.headerValue); err == nil {
				out = append(out, route(forward(canaryBackend(contract.HeaderRuleWeight)), hm))
			}
		} else {
			if hm, err := ir.NewHeaderMatch(ir.ValueExact, c.header, contract.CanaryByHeaderAlways); err == nil {
				out = append(out, route(forward(canaryBackend(contract.HeaderRuleWeight)), hm))
			}
			if hm, err := ir.NewHeaderMatch(ir.ValueExact, c.header, contract.CanaryByHeaderNever); err == nil {
				out = append(out, route(forward(primary), hm))
			}
		}
	}
	if !c.hasWeight {
		return append(out, route(forward(primary)))
	}
	p := *primary
	p.Weight = c.total - c.weight
	return append(out, route(forward(&p, canaryBackend(c.weight))))
}
