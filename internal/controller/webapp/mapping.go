package webapp

import (
	"context"
	"slices"
	"strings"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

// How a change to a platform object (an ExposureClass, the Gateway or
// IngressClass behind one, a cert-manager issuer) finds the WebApps it
// concerns: through the classes that name the object, and the WebApps of
// those classes (classIndex), never by listing every WebApp. A WebApp that
// names no class is indexed under defaultClassKey and reached through
// whichever class is marked as the default (before or after the change: a
// map function sees both the old and the new object of an update).

const (
	// classIndex indexes WebApps by the ExposureClass they name
	// (spec.exposure.class), or defaultClassKey when they name none.
	classIndex = "pylon.dev/exposure-class"
	// defaultClassKey is the classIndex value of WebApps that name no
	// class. It is not a valid object name, so no class is called that.
	defaultClassKey = "<default>"
	// issuerIndex indexes WebApps by the cert-manager issuer they name
	// themselves in spec.tls.issuerRef ("ClusterIssuer/<name>" or
	// "Issuer/<name>"); the issuer of their class is found through the class.
	issuerIndex = "pylon.dev/issuer"
)

func classIndexValue(o client.Object) []string {
	app, ok := o.(*pylonv1alpha1.WebApp)
	if !ok {
		return nil
	}
	if app.Spec.Exposure != nil && app.Spec.Exposure.Class != "" {
		return []string{app.Spec.Exposure.Class}
	}
	return []string{defaultClassKey}
}

func issuerIndexValue(o client.Object) []string {
	app, ok := o.(*pylonv1alpha1.WebApp)
	if !ok || app.Spec.TLS == nil || app.Spec.TLS.IssuerRef == nil {
		return nil
	}
	if key := issuerKey(*app.Spec.TLS.IssuerRef); key != "" {
		return []string{key}
	}
	return nil
}

// issuerKey is the issuerIndex value of a reference, "" for issuers of
// other groups (Pylon reads no status of theirs).
func issuerKey(ref pylonv1alpha1.IssuerReference) string {
	ref = resources.NormalizeIssuer(ref)
	if ref.Group != certmanagerv1.SchemeGroupVersion.Group {
		return ""
	}
	return ref.Kind + "/" + ref.Name
}

func isDefaultClass(c *pylonv1alpha1.ExposureClass) bool {
	return c.Annotations[pylonv1alpha1.AnnotationIsDefaultClass] == "true"
}

// webAppsOfClass maps an ExposureClass to the WebApps that name it and,
// when it is marked as the default, to those that name none.
func (r *Reconciler) webAppsOfClass(ctx context.Context, obj client.Object) []reconcile.Request {
	c, ok := obj.(*pylonv1alpha1.ExposureClass)
	if !ok {
		return nil
	}
	return r.webAppsOfClasses(ctx, []*pylonv1alpha1.ExposureClass{c})
}

// webAppsOfClasses lists the WebApps of classes (see webAppsOfClass),
// optionally in one namespace only.
func (r *Reconciler) webAppsOfClasses(ctx context.Context, classes []*pylonv1alpha1.ExposureClass, opts ...client.ListOption) []reconcile.Request {
	var out []reconcile.Request
	seen := map[string]bool{}
	add := func(key string) {
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, r.requestsFor(ctx, append([]client.ListOption{client.MatchingFields{classIndex: key}}, opts...)...)...)
	}
	for _, c := range classes {
		add(c.Name)
		if isDefaultClass(c) {
			add(defaultClassKey)
		}
	}
	return out
}

// classesWhere lists the ExposureClasses match accepts. Classes are few
// (a platform defines a handful), so they are read without an index. A
// failed List is logged, as map functions cannot return errors.
func (r *Reconciler) classesWhere(ctx context.Context, match func(*pylonv1alpha1.ExposureClass) bool) []*pylonv1alpha1.ExposureClass {
	list := &pylonv1alpha1.ExposureClassList{}
	if err := r.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list ExposureClasses to find the WebApps a watched object concerns")
		return nil
	}
	var out []*pylonv1alpha1.ExposureClass
	for i := range list.Items {
		if match(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return out
}

// webAppsOfGateway maps a Gateway to the WebApps of the classes that
// attach to it.
func (r *Reconciler) webAppsOfGateway(ctx context.Context, obj client.Object) []reconcile.Request {
	classes := r.classesWhere(ctx, func(c *pylonv1alpha1.ExposureClass) bool {
		g := c.Spec.Gateway
		return g != nil && g.Namespace == obj.GetNamespace() && g.Name == obj.GetName()
	})
	return r.webAppsOfClasses(ctx, classes)
}

// webAppsOfGatewayClass maps a GatewayClass to the WebApps of the classes
// whose Gateway is of that class: a reconcile reads the GatewayClass's
// controller and its hostname-sharing annotation (exposure.go, foreign.go).
func (r *Reconciler) webAppsOfGatewayClass(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &gwv1.GatewayList{}
	if err := r.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list Gateways to find the WebApps a GatewayClass concerns")
		return nil
	}
	gateways := map[types.NamespacedName]bool{}
	for i := range list.Items {
		if string(list.Items[i].Spec.GatewayClassName) == obj.GetName() {
			gateways[types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}] = true
		}
	}
	if len(gateways) == 0 {
		return nil
	}
	classes := r.classesWhere(ctx, func(c *pylonv1alpha1.ExposureClass) bool {
		g := c.Spec.Gateway
		return g != nil && gateways[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}]
	})
	return r.webAppsOfClasses(ctx, classes)
}

// webAppsOfIngressClass maps an IngressClass to the WebApps of the classes
// naming it, and, when it is the cluster's default IngressClass, of those
// naming none.
func (r *Reconciler) webAppsOfIngressClass(ctx context.Context, obj client.Object) []reconcile.Request {
	isDefault := obj.GetAnnotations()[networkingv1.AnnotationIsDefaultIngressClass] == "true"
	classes := r.classesWhere(ctx, func(c *pylonv1alpha1.ExposureClass) bool {
		return c.Spec.IngressClassName == obj.GetName() || (c.Spec.IngressClassName == "" && isDefault)
	})
	return r.webAppsOfClasses(ctx, classes)
}

// webAppsOfIssuer maps a cert-manager Issuer or ClusterIssuer to the
// WebApps that name it and to the WebApps of the classes that name it (an
// Issuer's only in its namespace).
func (r *Reconciler) webAppsOfIssuer(ctx context.Context, obj client.Object) []reconcile.Request {
	kind := "ClusterIssuer"
	var opts []client.ListOption
	if _, ok := obj.(*certmanagerv1.Issuer); ok {
		kind = "Issuer"
		opts = append(opts, client.InNamespace(obj.GetNamespace()))
	}
	key := kind + "/" + obj.GetName()
	classes := r.classesWhere(ctx, func(c *pylonv1alpha1.ExposureClass) bool {
		return c.Spec.TLS != nil && c.Spec.TLS.IssuerRef != nil && issuerKey(*c.Spec.TLS.IssuerRef) == key
	})
	out := r.webAppsOfClasses(ctx, classes, opts...)
	return append(out, r.requestsFor(ctx, append([]client.ListOption{client.MatchingFields{issuerIndex: key}}, opts...)...)...)
}

// Predicates: the bundled gateway rewrites its Gateway's status as routes
// attach (listener conditions, attachedRoutes), and the ExposureClass
// controller writes each class's status; a reconcile reads neither, so such
// updates wake no WebApp.

// specOrAnnotationsChanged passes creations, deletions and updates that
// change the spec (generation) or the annotations (the default-class
// marks). It is for ExposureClasses and IngressClasses.
var specOrAnnotationsChanged = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})

// gatewayChanged passes Gateway updates that change what a reconcile reads:
// the spec (the GatewayClass; generation) and status.addresses (DNS
// targets).
var gatewayChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(*gwv1.Gateway)
		n, okNew := e.ObjectNew.(*gwv1.Gateway)
		if !okOld || !okNew {
			return true
		}
		return o.Generation != n.Generation || !equality.Semantic.DeepEqual(o.Status.Addresses, n.Status.Addresses)
	},
}

// issuerChanged passes issuer updates that change what a reconcile reads:
// the spec (generation) and the Ready condition.
var issuerChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(certmanagerv1.GenericIssuer)
		n, okNew := e.ObjectNew.(certmanagerv1.GenericIssuer)
		if !okOld || !okNew {
			return true
		}
		return o.GetGeneration() != n.GetGeneration() ||
			!equality.Semantic.DeepEqual(readyOf(o), readyOf(n))
	},
}

func readyOf(iss certmanagerv1.GenericIssuer) *certmanagerv1.IssuerCondition {
	for i, c := range iss.GetStatus().Conditions {
		if c.Type == certmanagerv1.IssuerConditionReady {
			return &iss.GetStatus().Conditions[i]
		}
	}
	return nil
}

// Indexes of route objects by the hostnames they ask for (lower case), so
// that the look-up for objects of other namespaces serving a hostname
// (foreign.go) reads the few that do, not every route in the cluster.
const (
	httpRouteHostIndex   = "pylon.dev/httproute-hostname"
	listenerSetHostIndex = "pylon.dev/listenerset-hostname"
	ingressHostIndex     = "pylon.dev/ingress-host"
)

func lowerAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, h := range in {
		if h = strings.ToLower(h); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// routeHostnames is the index function of the three: hostnamesOf, lower
// case. Pylon's own children are not indexed: every reader of these
// indexes looks for other namespaces' objects and skips them (pylonChild),
// and at scale they would be most of the entries.
func routeHostnames(o client.Object) []string {
	if pylonChild(o) {
		return nil
	}
	return lowerAll(hostnamesOf(o))
}
