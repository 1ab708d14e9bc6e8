package webapp

import (
	"context"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

// Objects outside Pylon that already serve a hostname. On the bundled
// gateway a hostname belongs to one namespace (the HostnameClaim holder,
// else the oldest object asking for it): a WebApp must not claim a
// hostname another namespace already serves there with a plain HTTPRoute,
// ListenerSet or Ingress, or the claim would take that namespace's traffic.
// Other controllers do not enforce ownership, so only the bundled gateway's
// classes are looked at; a GatewayClass that opts into sharing
// (contract.AnnotationHostnameSharing) is not either.

// servedElsewhere returns the Rules.ServedElsewhere look-up for app's class,
// or nil when the class does not route through the bundled gateway.
func (r *Reconciler) servedElsewhere(ctx context.Context, app *pylonv1alpha1.WebApp, class *pylonv1alpha1.ExposureClass) (func(context.Context) (*claims.Foreign, error), error) {
	host := claims.Normalize(app.Spec.Hostname)
	switch class.Spec.Type {
	case pylonv1alpha1.ExposureGateway:
		if class.Spec.Gateway == nil {
			return nil, nil
		}
		gw := &gwv1.Gateway{}
		key := types.NamespacedName{Namespace: class.Spec.Gateway.Namespace, Name: class.Spec.Gateway.Name}
		if err := r.Get(ctx, key, gw); apierrors.IsNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		gc := &gwv1.GatewayClass{}
		if err := r.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, gc); apierrors.IsNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if gc.Spec.ControllerName != contract.GatewayControllerName ||
			gc.Annotations[contract.AnnotationHostnameSharing] == contract.HostnameSharingAllowAcrossNamespaces {
			return nil, nil
		}
		return func(ctx context.Context) (*claims.Foreign, error) {
			return r.gatewayServes(ctx, app.Namespace, key, host)
		}, nil
	case pylonv1alpha1.ExposureIngress:
		ic := &networkingv1.IngressClass{}
		if err := r.Get(ctx, types.NamespacedName{Name: class.Spec.IngressClassName}, ic); apierrors.IsNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if ic.Spec.Controller != contract.IngressControllerName {
			return nil, nil
		}
		isDefault := ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true"
		return func(ctx context.Context) (*claims.Foreign, error) {
			return r.ingressServes(ctx, app.Namespace, ic.Name, isDefault, host)
		}, nil
	}
	return nil, nil
}

// pylonChild reports objects Pylon made for a WebApp: those of other
// namespaces are covered by HostnameClaims (and a forged label gains
// nothing: the data plane serves a claimed hostname from its holder's
// namespace only). The cache keeps no labels of a WebApp's child that
// Pylon's apply owns fields in; it keeps a fingerprint instead
// (TrimCachedChild), which an object a WebApp does not control never has.
func pylonChild(o client.Object) bool {
	if applier.CachedFingerprint(o) != "" {
		return true
	}
	l := o.GetLabels()
	return l[resources.LabelManagedBy] == resources.ManagedByPylon && l[resources.LabelWebApp] != ""
}

// oldest keeps the older of two candidates (creation time, then namespace
// and name, as the data plane orders claimants).
func oldest(cur *claims.Foreign, next claims.Foreign) *claims.Foreign {
	if cur == nil {
		return &next
	}
	if c := next.Created.Compare(cur.Created.Time); c < 0 || (c == 0 && next.Namespace+"/"+next.Name < cur.Namespace+"/"+cur.Name) {
		return &next
	}
	return cur
}

// gatewayServes finds the oldest HTTPRoute or ListenerSet outside ns that
// asks the Gateway gw for host. Only the objects naming host are read
// (httpRouteHostIndex, listenerSetHostIndex).
func (r *Reconciler) gatewayServes(ctx context.Context, ns string, gw types.NamespacedName, host string) (*claims.Foreign, error) {
	var found *claims.Foreign
	sets := &gwv1.ListenerSetList{}
	if err := r.List(ctx, sets, client.MatchingFields{listenerSetHostIndex: strings.ToLower(host)}); err != nil {
		return nil, fmt.Errorf("list ListenerSets: %w", err)
	}
	for i := range sets.Items {
		ls := &sets.Items[i]
		if ls.Namespace == ns || pylonChild(ls) || !listenerSetOn(ls, gw) {
			continue
		}
		for _, l := range ls.Spec.Listeners {
			if l.Hostname != nil && strings.EqualFold(string(*l.Hostname), host) {
				found = oldest(found, claims.Foreign{Kind: "ListenerSet", Namespace: ls.Namespace, Name: ls.Name, Created: ls.CreationTimestamp})
			}
		}
	}
	routes := &gwv1.HTTPRouteList{}
	if err := r.List(ctx, routes, client.MatchingFields{httpRouteHostIndex: strings.ToLower(host)}); err != nil {
		return nil, fmt.Errorf("list HTTPRoutes: %w", err)
	}
	for i := range routes.Items {
		hr := &routes.Items[i]
		if hr.Namespace == ns || pylonChild(hr) || !hasHostname(hr.Spec.Hostnames, host) {
			continue
		}
		for _, p := range hr.Spec.ParentRefs {
			on, err := r.parentOn(ctx, hr.Namespace, p, gw)
			if err != nil {
				return nil, err
			}
			if on {
				found = oldest(found, claims.Foreign{Kind: "HTTPRoute", Namespace: hr.Namespace, Name: hr.Name, Created: hr.CreationTimestamp})
				break
			}
		}
	}
	return found, nil
}

// listenerSetOn reports whether the ListenerSet attaches to the Gateway gw.
func listenerSetOn(ls *gwv1.ListenerSet, gw types.NamespacedName) bool {
	ref := ls.Spec.ParentRef
	pns := ls.Namespace
	if ref.Namespace != nil {
		pns = string(*ref.Namespace)
	}
	return pns == gw.Namespace && string(ref.Name) == gw.Name
}

// parentOn reports whether an HTTPRoute's parent reference (the route is in
// namespace ns) is the Gateway gw or a ListenerSet attached to it.
func (r *Reconciler) parentOn(ctx context.Context, ns string, p gwv1.ParentReference, gw types.NamespacedName) (bool, error) {
	pns := ns
	if p.Namespace != nil {
		pns = string(*p.Namespace)
	}
	kind := "Gateway"
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	target := types.NamespacedName{Namespace: pns, Name: string(p.Name)}
	switch kind {
	case "Gateway":
		return target == gw, nil
	case "ListenerSet":
		ls := &gwv1.ListenerSet{}
		if err := r.Get(ctx, target, ls); apierrors.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("read ListenerSet %s: %w", target, err)
		}
		return listenerSetOn(ls, gw), nil
	}
	return false, nil
}

func hasHostname(list []gwv1.Hostname, host string) bool {
	for _, h := range list {
		if strings.EqualFold(string(h), host) {
			return true
		}
	}
	return false
}

// ingressServes finds the oldest Ingress outside ns of IngressClass class
// (or of no class, when class is the default) with a rule or TLS entry for
// host. Only the Ingresses naming host are read (ingressHostIndex).
func (r *Reconciler) ingressServes(ctx context.Context, ns, class string, isDefault bool, host string) (*claims.Foreign, error) {
	list := &networkingv1.IngressList{}
	if err := r.List(ctx, list, client.MatchingFields{ingressHostIndex: strings.ToLower(host)}); err != nil {
		return nil, fmt.Errorf("list Ingresses: %w", err)
	}
	var found *claims.Foreign
	for i := range list.Items {
		ing := &list.Items[i]
		c := ingressClassOf(ing)
		if ing.Namespace == ns || pylonChild(ing) || (c != class && (c != "" || !isDefault)) || !ingressHasHost(ing, host) {
			continue
		}
		found = oldest(found, claims.Foreign{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name, Created: ing.CreationTimestamp})
	}
	return found, nil
}

// ingressClassOf is the Ingress's class ("" for none): spec.ingressClassName,
// else the legacy annotation.
func ingressClassOf(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations["kubernetes.io/ingress.class"]
}

func ingressHasHost(ing *networkingv1.Ingress, host string) bool {
	for _, rule := range ing.Spec.Rules {
		if strings.EqualFold(rule.Host, host) {
			return true
		}
	}
	for _, tl := range ing.Spec.TLS {
		for _, h := range tl.Hosts {
			if strings.EqualFold(h, host) {
				return true
			}
		}
	}
	return false
}
