package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// Hostname ownership. A hostname (exact or wildcard, as written) and all its
// paths are served from one namespace: the namespace of the WebApp that
// holds its HostnameClaim, else the namespace of the oldest object that asks
// for it (creationTimestamp, then namespace, kind and name). Objects of
// other namespaces that ask for it get no traffic for it and say why in
// their own status. A wildcard's owner gets only the hosts no other
// namespace owns exactly; the catch-all ("" hostname) is owned by nobody
// but never serves a host owned by another namespace either.
//
// Listeners of a GatewayClass annotated with contract.AnnotationHostnameSharing
// = AllowAcrossNamespaces are exempt: their routes neither claim nor lose
// hostnames, as plain Gateway API specifies.

const kindHostnameClaim = "HostnameClaim"

// claimant is one object asking for a hostname.
type claimant struct {
	created metav1.Time
	ns      string
	kind    string
	name    string
	// held is true for a HostnameClaim: it outranks every object. webApp
	// names the holder WebApp (in namespace ns).
	held   bool
	webApp string
}

func (c claimant) String() string {
	if c.held {
		return fmt.Sprintf("HostnameClaim %s of WebApp %s/%s", c.name, c.ns, c.webApp)
	}
	return fmt.Sprintf("%s %s/%s", c.kind, c.ns, c.name)
}

func compareClaimants(a, b claimant) int {
	if a.held != b.held {
		if a.held {
			return -1
		}
		return 1
	}
	if c := a.created.Compare(b.created.Time); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.ns, b.ns), strings.Compare(a.kind, b.kind), strings.Compare(a.name, b.name))
}

// owners maps a hostname to the claimant that owns it.
type owners map[string]claimant

func (o owners) offer(host string, c claimant) {
	if host == "" {
		return
	}
	if cur, ok := o[host]; !ok || compareClaimants(c, cur) < 0 {
		o[host] = c
	}
}

// ownerOf is the namespace owning host, "" for nobody.
func (o owners) ownerOf(host string) string {
	if c, ok := o[host]; ok {
		return c.ns
	}
	return ""
}

// decideOwners collects every claimant and picks each hostname's owner. It
// runs after listeners are validated and before ListenerSets are settled,
// so that a ListenerSet listener that loses its hostname is reported as
// conflicted and never programmed.
func (t *translator) decideOwners() {
	o := owners{}
	for _, hc := range sortedObjects(t.snap.HostnameClaims) {
		h := strings.ToLower(hc.Spec.Hostname)
		o.offer(h, claimant{created: hc.CreationTimestamp, ns: hc.Spec.WebApp.Namespace, kind: kindHostnameClaim, name: hc.Name, held: true, webApp: hc.Spec.WebApp.Name})
	}
	for _, s := range t.sets {
		if !s.considered || s.gw.class.sharing {
			continue
		}
		for _, l := range s.listeners {
			// A listener already conflicted with a Gateway listener or an
			// older ListenerSet's claims nothing.
			if l.valid() && l.hostname != "" {
				o.offer(l.hostname, claimant{created: s.ls.CreationTimestamp, ns: s.ls.Namespace, kind: kindListenerSet, name: s.ls.Name})
			}
		}
	}
	for _, e := range t.planHTTPRoutes() {
		c := claimant{created: e.hr.CreationTimestamp, ns: e.hr.Namespace, kind: kindHTTPRoute, name: e.hr.Name}
		for _, p := range e.parents {
			for _, h := range p.hits {
				if h.l.gw.class.sharing {
					continue
				}
				for _, host := range h.hosts {
					o.offer(host, c)
				}
			}
		}
	}
	for _, ing := range t.ingressesOfOurClasses() {
		if ing.Annotations[contract.AnnotationCanary] == "true" {
			continue // a canary only ever joins its primary's paths
		}
		c := claimant{created: ing.CreationTimestamp, ns: ing.Namespace, kind: kindIngress, name: ing.Name}
		for _, h := range ingressHosts(ing) {
			o.offer(h, c)
		}
	}
	t.owners = o
	t.table.owners = o
}

// markListenerSetOwnership flags ListenerSet listeners whose hostname
// belongs to another namespace as conflicted (HostnameConflict).
func (t *translator) markListenerSetOwnership() {
	for _, s := range t.sets {
		if !s.considered || s.gw.class.sharing {
			continue
		}
		for _, l := range s.listeners {
			if l.hostname == "" || !l.accepted {
				continue
			}
			if c, ok := t.owners[l.hostname]; ok && c.ns != l.ownerNS {
				l.conflicted = true
				l.conflictReason = string(gwv1.ListenerReasonHostnameConflict)
				l.conflictMsg = fmt.Sprintf("hostname %q belongs to namespace %s (%s)", l.hostname, c.ns, c)
			}
		}
	}
}

// ownedHosts splits hosts a route of namespace ns asks for through l into
// those it may serve and those another namespace owns.
func (t *translator) ownedHosts(l *listenerInfo, ns string, hosts []string) (kept, denied []string) {
	if l.gw.class.sharing {
		return hosts, nil
	}
	for _, h := range hosts {
		if o := t.owners.ownerOf(h); o != "" && o != ns {
			denied = append(denied, h)
		} else {
			kept = append(kept, h)
		}
	}
	return kept, denied
}

// deniedMessage names the owner namespace of each denied host.
func (t *translator) deniedMessage(hosts []string) string {
	hosts = slices.Clone(hosts)
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	parts := make([]string, 0, len(hosts))
	for _, h := range hosts {
		c := t.owners[h]
		parts = append(parts, fmt.Sprintf("hostname %q belongs to namespace %s (%s)", h, c.ns, c))
	}
	return strings.Join(parts, "; ")
}

// ingressHosts lists the hostnames an Ingress asks for: its rules' hosts
// and its TLS hosts.
func ingressHosts(ing *networkingv1.Ingress) []string {
	var out []string
	for _, r := range ing.Spec.Rules {
		if r.Host != "" {
			out = append(out, strings.ToLower(r.Host))
		}
	}
	for _, tl := range ing.Spec.TLS {
		for _, h := range tl.Hosts {
			if h != "" {
				out = append(out, strings.ToLower(h))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// markShadowed turns Served=True into False (ReasonShadowedByAnotherNamespace)
// for HTTPRoutes that lose requests to a route of another namespace placed
// before them on a host they serve: only possible where sharing is allowed,
// or on the catch-all, which nobody owns.
func (t *translator) markShadowed(table *ir.Table) {
	shadowed := map[string]string{}
	for _, l := range table.Listeners {
		for _, vh := range l.VirtualHosts {
			earlier := map[string][]*ir.Route{} // by namespace
			for _, r := range vh.Chain() {
				key := r.Source.Namespace + "/" + r.Source.Name
				if _, done := shadowed[key]; !done && r.Source.Kind == kindHTTPRoute {
					if by := shadowingRoute(earlier, r); by != nil {
						host := vh.Hostname
						if host == "" {
							host = "*"
						}
						shadowed[key] = fmt.Sprintf("on %s port %d, %s %s of %s %s/%s comes first and takes requests for %s %s",
							host, l.Port, by.Path.Type, by.Path.Value, by.Source.Kind, by.Source.Namespace, by.Source.Name, r.Path.Type, r.Path.Value)
					}
				}
				earlier[r.Source.Namespace] = append(earlier[r.Source.Namespace], r)
			}
		}
	}
	if len(shadowed) == 0 {
		return
	}
	for i := range t.status.HTTPRoutes {
		s := &t.status.HTTPRoutes[i]
		msg, ok := shadowed[s.Namespace+"/"+s.Name]
		if !ok {
			continue
		}
		for j := range s.Parents {
			for k := range s.Parents[j].Conditions {
				c := &s.Parents[j].Conditions[k]
				if c.Type == contract.ConditionServed && c.Status == metav1.ConditionTrue {
					c.Status, c.Reason, c.Message = metav1.ConditionFalse, contract.ReasonShadowedByAnotherNamespace, msg
				}
			}
		}
	}
}

// shadowingRoute returns an earlier route of another namespace whose path
// overlaps r's, or nil.
func shadowingRoute(earlier map[string][]*ir.Route, r *ir.Route) *ir.Route {
	namespaces := make([]string, 0, len(earlier))
	for ns := range earlier {
		if ns != r.Source.Namespace {
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		for _, e := range earlier[ns] {
			if e.Path.Overlaps(r.Path) {
				return e
			}
		}
	}
	return nil
}
