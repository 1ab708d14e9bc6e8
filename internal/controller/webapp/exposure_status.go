package webapp

import (
	"fmt"
	"strings"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// exposureConditions are HostnameClaimed, Routed, CertificateReady and
// DNSReady, each only when it applies to the WebApp.
func exposureConditions(app *pylonv1alpha1.WebApp, obs observation) []metav1.Condition {
	v := obs.exposure
	if !v.routing {
		return nil
	}
	var out []metav1.Condition
	if p := v.classProblem; p != nil {
		return append(out, cond(pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, p.reason, p.message))
	}
	hostname := hostnameCondition(app, v)
	out = append(out, hostname)
	if hostname.Status != metav1.ConditionTrue {
		// No route, certificate or DNS record without the hostname.
		return append(out, cond(pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, hostname.Reason, "not routed: "+hostname.Message))
	}
	out = append(out, routedCondition(app, obs))
	if v.exp.TLS.Enabled() {
		out = append(out, certificateCondition(app, obs))
	}
	if v.exp.Class.Spec.DNS != nil && v.exp.Class.Spec.DNS.Mode != "" && v.exp.Class.Spec.DNS.Mode != pylonv1alpha1.DNSNone {
		out = append(out, dnsCondition(app, obs))
	}
	return out
}

func cond(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
}

func hostnameCondition(app *pylonv1alpha1.WebApp, v exposureView) metav1.Condition {
	const t = pylonv1alpha1.ConditionHostnameClaimed
	switch {
	case v.policyProblem != nil:
		return cond(t, metav1.ConditionFalse, v.policyProblem.reason, v.policyProblem.message)
	case v.claim == nil:
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, "hostname not yet claimed")
	case v.claim.Held:
		return cond(t, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed, fmt.Sprintf("this WebApp holds hostname %s", app.Spec.Hostname))
	default:
		return cond(t, metav1.ConditionFalse, v.claim.Reason, v.claim.Message)
	}
}

// routedCondition says whether traffic for the hostname reaches the app:
// every route object accepted by its controller at its latest generation.
func routedCondition(app *pylonv1alpha1.WebApp, obs observation) metav1.Condition {
	const t = pylonv1alpha1.ConditionRouted
	v := obs.exposure
	var checks []metav1.Condition
	switch v.exp.Class.Spec.Type {
	case pylonv1alpha1.ExposureGateway:
		if v.exp.TLS.Enabled() {
			ls, _ := obs.live[childID(listenerSetGVK, names.Route(app))].(*gwv1.ListenerSet)
			checks = append(checks, listenerSetAccepted(ls, childID(listenerSetGVK, names.Route(app))))
		}
		for _, n := range []string{names.Route(app), names.RedirectRoute(app)} {
			id := childID(httpRouteGVK, n)
			if r, ok := obs.live[id].(*gwv1.HTTPRoute); ok {
				checks = append(checks, routeAccepted(r))
			} else if f := obs.failureOf(id); f != nil {
				checks = append(checks, cond(t, metav1.ConditionFalse, f.reason, f.message))
			}
		}
		if len(checks) == 0 {
			checks = append(checks, cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, "HTTPRoute "+names.Route(app)+" does not exist yet"))
		}
	case pylonv1alpha1.ExposureIngress:
		ing, _ := obs.live[childID(ingressGVK, names.Route(app))].(*networkingv1.Ingress)
		checks = append(checks, ingressAdmitted(ing, names.Route(app)))
		if v.canaryUnsupported {
			checks = append(checks, cond(t, metav1.ConditionFalse, pylonv1alpha1.ReasonCanaryUnsupported,
				fmt.Sprintf("the controller of IngressClass %s cannot split traffic, so the canary receives none: use an ExposureClass of type Gateway, or an IngressClass of ingress-nginx or Pylon's gateway", v.exp.Class.Spec.IngressClassName)))
		}
	}
	for _, s := range []metav1.ConditionStatus{metav1.ConditionFalse, metav1.ConditionUnknown} {
		for _, c := range checks {
			if c.Status == s {
				c.Type = t
				return c
			}
		}
	}
	return cond(t, metav1.ConditionTrue, pylonv1alpha1.ReasonRouted, "traffic for "+v.exp.Hostname+" is routed to the app")
}

// routeAccepted is True when every parent of the route accepted it and
// resolved its references at the route's latest generation.
func routeAccepted(r *gwv1.HTTPRoute) metav1.Condition {
	for _, p := range r.Spec.ParentRefs {
		parent := describeParent(p, r.Namespace)
		st := findParentStatus(r, p)
		if st == nil {
			return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, fmt.Sprintf("waiting for the controller of %s to accept HTTPRoute %s", parent, r.Name))
		}
		types := []string{string(gwv1.RouteConditionAccepted), string(gwv1.RouteConditionResolvedRefs)}
		if st.ControllerName == contract.GatewayControllerName {
			// The bundled gateway also says whether it really sends the
			// route's hostnames to it (not owned by another namespace, on
			// a listener that is served): accepted is not enough.
			types = append(types, contract.ConditionServed)
		}
		for _, ct := range types {
			c := meta.FindStatusCondition(st.Conditions, ct)
			switch {
			case c == nil || c.ObservedGeneration != r.Generation:
				return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, fmt.Sprintf("waiting for %s to process generation %d of HTTPRoute %s", st.ControllerName, r.Generation, r.Name))
			case c.Status != metav1.ConditionTrue:
				return cond("", metav1.ConditionFalse, c.Reason, fmt.Sprintf("HTTPRoute %s on %s: %s: %s", r.Name, parent, ct, c.Message))
			}
		}
	}
	return cond("", metav1.ConditionTrue, pylonv1alpha1.ReasonRouted, "")
}

func findParentStatus(r *gwv1.HTTPRoute, p gwv1.ParentReference) *gwv1.RouteParentStatus {
	for i := range r.Status.Parents {
		if sameParent(r.Status.Parents[i].ParentRef, p, r.Namespace) {
			return &r.Status.Parents[i]
		}
	}
	return nil
}

// sameParent compares parent references with the API's defaults applied.
func sameParent(a, b gwv1.ParentReference, routeNamespace string) bool {
	str := func(p *string, def string) string {
		if p == nil {
			return def
		}
		return *p
	}
	norm := func(p gwv1.ParentReference) string {
		port := ""
		if p.Port != nil {
			port = fmt.Sprint(*p.Port)
		}
		return strings.Join([]string{
			str((*string)(p.Group), gwv1.GroupName), str((*string)(p.Kind), "Gateway"),
			str((*string)(p.Namespace), routeNamespace), string(p.Name),
			str((*string)(p.SectionName), ""), port,
		}, "/")
	}
	return norm(a) == norm(b)
}

func describeParent(p gwv1.ParentReference, ns string) string {
	kind, pns := "Gateway", ns
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	if p.Namespace != nil {
		pns = string(*p.Namespace)
	}
	s := fmt.Sprintf("%s %s/%s", kind, pns, p.Name)
	if p.SectionName != nil {
		s += " listener " + string(*p.SectionName)
	}
	return s
}

func listenerSetAccepted(ls *gwv1.ListenerSet, id string) metav1.Condition {
	if ls == nil {
		return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, id+" does not exist yet")
	}
	for _, ct := range []string{string(gwv1.ListenerSetConditionAccepted), string(gwv1.ListenerSetConditionProgrammed)} {
		c := meta.FindStatusCondition(ls.Status.Conditions, ct)
		switch {
		case c == nil || c.ObservedGeneration != ls.Generation:
			return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, fmt.Sprintf("waiting for the Gateway's controller to process generation %d of ListenerSet %s", ls.Generation, ls.Name))
		case c.Status != metav1.ConditionTrue:
			return cond("", metav1.ConditionFalse, c.Reason, fmt.Sprintf("ListenerSet %s: %s: %s", ls.Name, ct, c.Message))
		}
	}
	return cond("", metav1.ConditionTrue, pylonv1alpha1.ReasonRouted, "")
}

// ingressAdmitted: an Ingress has no conditions; its controller admits it by
// giving it a load-balancer address.
func ingressAdmitted(ing *networkingv1.Ingress, name string) metav1.Condition {
	if ing == nil {
		return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, "Ingress "+name+" does not exist yet")
	}
	if len(ing.Status.LoadBalancer.Ingress) == 0 {
		return cond("", metav1.ConditionUnknown, pylonv1alpha1.ReasonAddressPending, fmt.Sprintf("waiting for the controller of IngressClass %s to give Ingress %s an address", deref(ing.Spec.IngressClassName), name))
	}
	return cond("", metav1.ConditionTrue, pylonv1alpha1.ReasonRouted, "")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// certificateCondition reports the certificate: cert-manager's Certificate
// in mode Auto, the team's Secret in mode Secret.
func certificateCondition(app *pylonv1alpha1.WebApp, obs observation) metav1.Condition {
	const t = pylonv1alpha1.ConditionCertificateReady
	v := obs.exposure
	if v.exp.TLS.Mode == pylonv1alpha1.TLSSecret {
		s := v.secret
		if s == nil {
			return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, "the Secret has not been checked yet")
		}
		if s.OK {
			return cond(t, metav1.ConditionTrue, s.Reason, s.Message)
		}
		return cond(t, metav1.ConditionFalse, s.Reason, s.Message)
	}
	switch {
	case !v.exp.APIs.CertManager:
		return cond(t, metav1.ConditionFalse, pylonv1alpha1.ReasonAPINotInstalled, capabilities.NotInstalledMessage(capabilities.CertManager)+", or use tls.mode Secret")
	case v.exp.TLS.RefusedIssuer != nil:
		return cond(t, metav1.ConditionFalse, pylonv1alpha1.ReasonIssuerNotAllowed, issuerNotAllowedMessage(v.exp.TLS.RefusedIssuer, v.exp.Class))
	case v.exp.TLS.Issuer == nil:
		return cond(t, metav1.ConditionFalse, pylonv1alpha1.ReasonNoIssuer, fmt.Sprintf("tls.mode is Auto but neither the WebApp (spec.tls.issuerRef) nor ExposureClass %s (spec.tls.issuerRef) names a cert-manager issuer", v.exp.Class.Name))
	}
	id := childID(certificateGVK, names.Route(app))
	if f := obs.failureOf(id); f != nil {
		return cond(t, metav1.ConditionFalse, f.reason, f.message)
	}
	crt, _ := obs.live[id].(*certmanagerv1.Certificate)
	if crt == nil {
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, "Certificate "+names.Route(app)+" does not exist yet")
	}
	return certificateAutoCondition(crt, v.issuer)
}

// dnsCondition says what Pylon knows about the hostname's record. Both modes
// need the address first. In DNSEndpoint mode external-dns reports back
// (dnsEndpointCondition); in ExternalDNS (annotation) mode it does not, so
// DNSReady says only that the route carries the annotations.
func dnsCondition(app *pylonv1alpha1.WebApp, obs observation) metav1.Condition {
	const t = pylonv1alpha1.ConditionDNSReady
	v := obs.exposure
	mode := v.exp.Class.Spec.DNS.Mode
	if mode == pylonv1alpha1.DNSEndpoint && !v.exp.APIs.ExternalDNS {
		return cond(t, metav1.ConditionFalse, pylonv1alpha1.ReasonAPINotInstalled, capabilities.NotInstalledMessage(capabilities.ExternalDNS))
	}
	if len(v.exp.DNSTargets) == 0 {
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonAddressPending, "waiting for the Gateway or Ingress controller to publish an address for "+v.exp.Hostname)
	}
	records := v.exp.Hostname + " -> " + strings.Join(v.exp.DNSTargets, ", ")
	if mode == pylonv1alpha1.DNSExternalDNS {
		kind := "HTTPRoute"
		if v.exp.Class.Spec.Type == pylonv1alpha1.ExposureIngress {
			kind = "Ingress"
		}
		return cond(t, metav1.ConditionTrue, pylonv1alpha1.ReasonDelegatedToExternalDNS, fmt.Sprintf(
			"%s %s carries external-dns annotations for %s; external-dns reports nothing back on annotated routes, so Pylon cannot see whether the record was published (DNSEndpoint mode can)",
			kind, names.Route(app), records))
	}
	id := childID(dnsEndpointGVK, names.Route(app))
	if f := obs.failureOf(id); f != nil {
		return cond(t, metav1.ConditionFalse, f.reason, f.message)
	}
	d, _ := obs.live[id].(*externaldnsv1alpha1.DNSEndpoint)
	if d == nil {
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending, fmt.Sprintf("DNSEndpoint %s (%s) is not written yet", names.Route(app), records))
	}
	return dnsEndpointCondition(d, records)
}

// dnsEndpointCondition judges a DNSEndpoint by what external-dns wrote back.
// external-dns' crd source sets status.observedGeneration to the generation
// it read in a sync, so DNSReady is True only when that is the current
// generation: records Pylon has just changed are not reported as published
// on the strength of an older sync.
func dnsEndpointCondition(d *externaldnsv1alpha1.DNSEndpoint, records string) metav1.Condition {
	const t = pylonv1alpha1.ConditionDNSReady
	observed := d.Status.ObservedGeneration
	switch observed {
	case d.Generation:
		return cond(t, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS, fmt.Sprintf(
			"external-dns processed generation %d of DNSEndpoint %s: %s", d.Generation, d.Name, records))
	case 0:
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonWaitingForExternalDNS, fmt.Sprintf(
			"waiting for external-dns to process DNSEndpoint %s (generation %d: %s); it has processed no generation of it yet", d.Name, d.Generation, records))
	default:
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonWaitingForExternalDNS, fmt.Sprintf(
			"waiting for external-dns to process generation %d of DNSEndpoint %s (%s); it last processed generation %d", d.Generation, d.Name, records, observed))
	}
}

// issuerNotAllowedMessage names the refused issuer and the ones the class
// allows, so the team can pick one or ask the platform team.
func issuerNotAllowedMessage(refused *pylonv1alpha1.IssuerReference, class *pylonv1alpha1.ExposureClass) string {
	describe := func(r pylonv1alpha1.IssuerReference) string {
		s := r.Kind + " " + r.Name
		if r.Group != "cert-manager.io" {
			s += " (" + r.Group + ")"
		}
		return s
	}
	allowed := resources.AllowedIssuers(class)
	names := make([]string, 0, len(allowed))
	for _, r := range allowed {
		names = append(names, describe(r))
	}
	list := "none: it names no issuer"
	if len(names) > 0 {
		list = strings.Join(names, ", ")
	}
	return fmt.Sprintf("spec.tls.issuerRef names %s, which ExposureClass %s does not allow, so no Certificate is requested; allowed: %s (the platform team can add issuers to the class's spec.tls.allowedIssuers)",
		describe(resources.NormalizeIssuer(*refused)), class.Name, list)
}
