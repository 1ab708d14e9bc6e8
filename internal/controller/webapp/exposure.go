package webapp

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
	"github.com/pylon-dev/pylon/internal/tlscheck"
)

// problem is a condition reason and message found while resolving exposure.
type problem struct{ reason, message string }

// exposureView is what the reconciler learnt about how a WebApp is exposed.
type exposureView struct {
	exp resources.Exposure
	// routing is true when the WebApp asks to be routed under a hostname.
	routing bool
	// classProblem stops routing: no class, two defaults, a missing API...
	classProblem *problem
	// policyProblem: the class refuses the namespace or the hostname.
	policyProblem *problem
	// claim is the hostname verdict when routing and policy allow one.
	claim *claims.Verdict
	// canaryUnsupported: an Ingress controller that cannot split traffic.
	canaryUnsupported bool
	// controller is the controller name of the class's IngressClass or of
	// its Gateway's GatewayClass ("" when unknown): it says whose traffic
	// figures Pylon can read.
	controller string
	// secret is the verdict on a bring-your-own certificate (TLS mode Secret).
	secret *tlscheck.Result
	// issuer is cert-manager's report on the issuer of TLS mode Auto.
	issuer *issuerView
}

// resolveClass finds the WebApp's ExposureClass: the one it names, else the
// one annotated as the default. It returns nil and no problem when the
// WebApp names no class, has no hostname and there is no default: such an
// app lives inside the cluster.
func (r *Reconciler) resolveClass(ctx context.Context, app *pylonv1alpha1.WebApp) (*pylonv1alpha1.ExposureClass, *problem, error) {
	if app.Spec.Exposure != nil && app.Spec.Exposure.Class != "" {
		c := &pylonv1alpha1.ExposureClass{}
		err := r.Get(ctx, types.NamespacedName{Name: app.Spec.Exposure.Class}, c)
		if apierrors.IsNotFound(err) {
			return nil, &problem{pylonv1alpha1.ReasonExposureClassNotFound, fmt.Sprintf("ExposureClass %q does not exist", app.Spec.Exposure.Class)}, nil
		}
		return c, nil, err
	}
	list := &pylonv1alpha1.ExposureClassList{}
	if err := r.List(ctx, list); err != nil {
		return nil, nil, err
	}
	var defaults []*pylonv1alpha1.ExposureClass
	for i := range list.Items {
		if list.Items[i].Annotations[pylonv1alpha1.AnnotationIsDefaultClass] == "true" {
			defaults = append(defaults, &list.Items[i])
		}
	}
	switch len(defaults) {
	case 1:
		return defaults[0], nil, nil
	case 0:
		if app.Spec.Hostname == "" {
			return nil, nil, nil
		}
		return nil, &problem{pylonv1alpha1.ReasonNoDefaultExposureClass, "the WebApp names no ExposureClass and none is marked as the default (annotation " + pylonv1alpha1.AnnotationIsDefaultClass + `: "true"): set spec.exposure.class`}, nil
	default:
		n := make([]string, 0, len(defaults))
		for _, d := range defaults {
			n = append(n, d.Name)
		}
		sort.Strings(n)
		return nil, &problem{pylonv1alpha1.ReasonMultipleDefaultClasses, "ExposureClasses " + strings.Join(n, ", ") + " are all marked as the default: set spec.exposure.class, or ask the platform team to leave one default"}, nil
	}
}

// classAllows applies the class's namespace and domain policy to a WebApp.
func (r *Reconciler) classAllows(ctx context.Context, class *pylonv1alpha1.ExposureClass, app *pylonv1alpha1.WebApp) (*problem, error) {
	if an := class.Spec.AllowedNamespaces; an != nil && !slices.Contains(an.Names, app.Namespace) {
		ok := false
		if an.Selector != nil {
			sel, err := metav1.LabelSelectorAsSelector(an.Selector)
			if err != nil {
				return &problem{pylonv1alpha1.ReasonExposureClassInvalid, fmt.Sprintf("ExposureClass %s has an invalid namespace selector: %v", class.Name, err)}, nil
			}
			ns := &corev1.Namespace{}
			if err := r.Get(ctx, types.NamespacedName{Name: app.Namespace}, ns); err != nil {
				return nil, err
			}
			ok = sel.Matches(labels.Set(ns.Labels))
		}
		if !ok {
			return &problem{pylonv1alpha1.ReasonNamespaceNotAllowed, fmt.Sprintf("namespace %s may not use ExposureClass %s (see its spec.allowedNamespaces)", app.Namespace, class.Name)}, nil
		}
	}
	if d := class.Spec.AllowedDomains; len(d) > 0 && !domainAllowed(claims.Normalize(app.Spec.Hostname), d) {
		return &problem{pylonv1alpha1.ReasonDomainNotAllowed, fmt.Sprintf("hostname %s is outside the domains ExposureClass %s allows: %s", app.Spec.Hostname, class.Name, strings.Join(d, ", "))}, nil
	}
	return nil, nil
}

// domainAllowed: an entry is a name, or "*.suffix" for any name under suffix
// (at any depth).
func domainAllowed(host string, allowed []string) bool {
	for _, d := range allowed {
		if suffix, ok := strings.CutPrefix(d, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == d {
			return true
		}
	}
	return false
}

// routes reports whether the class puts the app behind a hostname.
func routes(c *pylonv1alpha1.ExposureClass) bool {
	return c != nil && (c.Spec.Type == pylonv1alpha1.ExposureGateway || c.Spec.Type == pylonv1alpha1.ExposureIngress)
}

// claimable resolves a WebApp's class and applies its policy: the WebApp may
// claim its hostname exactly when both problems are nil and the class
// routes. The same function decides for this WebApp and, through eligible,
// for the others waiting for the same hostname.
func (r *Reconciler) claimable(ctx context.Context, app *pylonv1alpha1.WebApp) (class *pylonv1alpha1.ExposureClass, classProblem, policyProblem *problem, err error) {
	class, classProblem, err = r.resolveClass(ctx, app)
	if err != nil || classProblem != nil || !routes(class) {
		return class, classProblem, nil, err
	}
	switch {
	case app.Spec.Hostname == "":
		return class, &problem{pylonv1alpha1.ReasonHostnameRequired, fmt.Sprintf("ExposureClass %s routes by hostname: set spec.hostname", class.Name)}, nil, nil
	case class.Spec.Type == pylonv1alpha1.ExposureGateway && !r.Caps.Has(capabilities.GatewayAPI):
		return class, &problem{pylonv1alpha1.ReasonAPINotInstalled, capabilities.NotInstalledMessage(capabilities.GatewayAPI)}, nil, nil
	}
	policyProblem, err = r.classAllows(ctx, class, app)
	return class, nil, policyProblem, err
}

// eligible says whether another WebApp wanting a hostname may hold it.
// Ineligible WebApps never block others; an error reading what decides it
// is an error, never "not eligible".
func (r *Reconciler) eligible(ctx context.Context, app *pylonv1alpha1.WebApp) (bool, error) {
	class, cp, pp, err := r.claimable(ctx, app)
	if err != nil {
		return false, err
	}
	return cp == nil && pp == nil && routes(class), nil
}

// exposure works out how a WebApp is exposed in three steps: resolve
// (pure: class and policy verdicts into a view), claim (writes: take or
// release the hostname) and observe (reads: the route's controller, DNS
// targets, the TLS Secret).
func (r *Reconciler) exposure(ctx context.Context, app *pylonv1alpha1.WebApp) (exposureView, error) {
	class, classProblem, policyProblem, err := r.claimable(ctx, app)
	if err != nil {
		return exposureView{}, err
	}
	v := resolveExposure(app, class, classProblem, policyProblem, r.apis())
	if err := r.claimHostname(ctx, app, &v); err != nil {
		return v, err
	}
	if v.exp.Hostname == "" {
		return v, nil
	}
	return v, r.observeExposure(ctx, app, &v)
}

func (r *Reconciler) apis() resources.APIs {
	return resources.APIs{
		GatewayAPI:  r.Caps.Has(capabilities.GatewayAPI),
		CertManager: r.Caps.Has(capabilities.CertManager),
		ExternalDNS: r.Caps.Has(capabilities.ExternalDNS),
	}
}

// resolveExposure builds the view from the class and the policy verdicts.
// It is pure.
func resolveExposure(app *pylonv1alpha1.WebApp, class *pylonv1alpha1.ExposureClass, classProblem, policyProblem *problem, apis resources.APIs) exposureView {
	v := exposureView{}
	v.exp.APIs = apis
	v.exp.Class = class
	v.exp.TLS = resources.EffectiveTLS(app, class)
	v.routing = routes(class) || classProblem != nil
	v.classProblem, v.policyProblem = classProblem, policyProblem
	return v
}

// mayClaim is true when the view allows claiming the hostname.
func (v exposureView) mayClaim() bool {
	return v.classProblem == nil && v.policyProblem == nil && routes(v.exp.Class)
}

// claimHostname claims the WebApp's hostname when the view allows it
// (oldest eligible WebApp first, never one another namespace already
// serves through the same bundled gateway) and releases every other claim
// the WebApp holds. It sets v.claim and, when held, v.exp.Hostname.
func (r *Reconciler) claimHostname(ctx context.Context, app *pylonv1alpha1.WebApp, v *exposureView) error {
	keep := ""
	if v.mayClaim() {
		foreign, err := r.servedElsewhere(ctx, app, v.exp.Class)
		if err != nil {
			return err
		}
		verdict, err := r.Claims.Ensure(ctx, app, claims.Rules{Eligible: r.eligible, ServedElsewhere: foreign})
		if err != nil {
			return err
		}
		v.claim = &verdict
		if verdict.Held {
			keep = claims.Normalize(app.Spec.Hostname)
			v.exp.Hostname = keep
		}
	}
	return r.Claims.Release(ctx, app, keep)
}

// observeExposure reads what the class's controller reports for a WebApp
// that holds its hostname: IngressClass controller and canary support, the
// Gateway's or Ingress's addresses for DNS, the TLS Secret. It only reads.
func (r *Reconciler) observeExposure(ctx context.Context, app *pylonv1alpha1.WebApp, v *exposureView) error {
	class := v.exp.Class
	switch class.Spec.Type {
	case pylonv1alpha1.ExposureIngress:
		ic := &networkingv1.IngressClass{}
		err := r.Get(ctx, types.NamespacedName{Name: class.Spec.IngressClassName}, ic)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err == nil {
			v.controller = ic.Spec.Controller
		}
		v.exp.IngressCanary = err == nil && slices.Contains(contract.IngressControllersWithCanary, ic.Spec.Controller)
		v.canaryUnsupported = resources.CanaryActive(app) && !v.exp.IngressCanary
		ing := &networkingv1.Ingress{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: names.Route(app)}, ing); err == nil {
			for _, lb := range ing.Status.LoadBalancer.Ingress {
				v.exp.DNSTargets = appendNonEmpty(v.exp.DNSTargets, lb.IP, lb.Hostname)
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
	case pylonv1alpha1.ExposureGateway:
		gw := &gwv1.Gateway{}
		key := types.NamespacedName{Namespace: class.Spec.Gateway.Namespace, Name: class.Spec.Gateway.Name}
		if err := r.Get(ctx, key, gw); err == nil {
			for _, a := range gw.Status.Addresses {
				v.exp.DNSTargets = appendNonEmpty(v.exp.DNSTargets, a.Value)
			}
			gc := &gwv1.GatewayClass{}
			if err := r.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, gc); err == nil {
				v.controller = string(gc.Spec.ControllerName)
			} else if !apierrors.IsNotFound(err) {
				return err
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
	}

	if v.exp.TLS.Mode == pylonv1alpha1.TLSSecret {
		s := &corev1.Secret{}
		key := types.NamespacedName{Namespace: app.Namespace, Name: v.exp.TLS.SecretName}
		// Read past the cache: Pylon caches only Secrets' metadata.
		err := r.APIReader.Get(ctx, key, s)
		if apierrors.IsNotFound(err) {
			s = nil
		} else if err != nil {
			return err
		}
		res := tlscheck.Check(s, key.String(), v.exp.Hostname, r.now())
		v.secret = &res
	}
	if v.exp.TLS.Mode == pylonv1alpha1.TLSAuto && v.exp.TLS.Issuer != nil && v.exp.APIs.CertManager {
		iss, err := r.observeIssuer(ctx, app, resources.NormalizeIssuer(*v.exp.TLS.Issuer))
		if err != nil {
			return err
		}
		v.issuer = iss
	}
	return nil
}

// observeIssuer reads cert-manager's Ready condition of the issuer a
// Certificate of app names (nil for issuers of other groups).
func (r *Reconciler) observeIssuer(ctx context.Context, app *pylonv1alpha1.WebApp, ref pylonv1alpha1.IssuerReference) (*issuerView, error) {
	if ref.Group != certmanagerv1.SchemeGroupVersion.Group {
		return nil, nil
	}
	var obj certmanagerv1.GenericIssuer = &certmanagerv1.ClusterIssuer{}
	key := types.NamespacedName{Name: ref.Name}
	iv := &issuerView{kind: ref.Kind, name: ref.Name}
	if ref.Kind == "Issuer" {
		obj, key.Namespace = &certmanagerv1.Issuer{}, app.Namespace
		iv.name = app.Namespace + "/" + ref.Name
	}
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return iv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", iv, err)
	}
	iv.found = true
	for i, c := range obj.GetStatus().Conditions {
		if c.Type == certmanagerv1.IssuerConditionReady && c.ObservedGeneration == obj.GetGeneration() {
			iv.ready = &obj.GetStatus().Conditions[i]
		}
	}
	return iv, nil
}

func appendNonEmpty(list []string, vals ...string) []string {
	for _, s := range vals {
		if s != "" && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// now is the reconciler's clock, replaceable in tests.
func (r *Reconciler) now() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return time.Now()
}
