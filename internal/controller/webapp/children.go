package webapp

import (
	"reflect"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

var (
	deploymentGVK  = appsv1.SchemeGroupVersion.WithKind("Deployment")
	serviceGVK     = corev1.SchemeGroupVersion.WithKind("Service")
	hpaGVK         = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	pdbGVK         = policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget")
	ingressGVK     = networkingv1.SchemeGroupVersion.WithKind("Ingress")
	httpRouteGVK   = schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "HTTPRoute"}
	listenerSetGVK = schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "ListenerSet"}
	certificateGVK = certmanagerv1.SchemeGroupVersion.WithKind("Certificate")
	dnsEndpointGVK = externaldnsv1alpha1.GroupVersion.WithKind("DNSEndpoint")
)

// child is one object a WebApp may have.
type child struct {
	gvk  schema.GroupVersionKind
	name string
	// desired is what the builders declare; nil means it must not exist.
	desired client.Object
}

// id names a child in observations.
func (c child) id() string { return c.gvk.Kind + "/" + c.name }

// childID is the id of the child of kind and name.
func childID(gvk schema.GroupVersionKind, name string) string { return gvk.Kind + "/" + name }

// desiredChildren lists every child Pylon manages for app, in the order they
// are applied: workloads before what points at them, certificates before
// the listeners that use them. Kinds of optional APIs the cluster does not
// serve are left out: they can neither exist nor be read.
func desiredChildren(app *pylonv1alpha1.WebApp, e resources.Exposure) []child {
	out := []child{
		of(deploymentGVK, names.Deployment(app), resources.MakeDeployment(app)),
		of(serviceGVK, names.Service(app), resources.MakeService(app)),
		of(hpaGVK, names.HorizontalPodAutoscaler(app), resources.MakeHorizontalPodAutoscaler(app)),
		of(pdbGVK, names.PodDisruptionBudget(app), resources.MakePodDisruptionBudget(app)),
		of(deploymentGVK, names.Canary(app), resources.MakeCanaryDeployment(app, e.Canary)),
		of(serviceGVK, names.Canary(app), resources.MakeCanaryService(app, e.Canary)),
		of(hpaGVK, names.Canary(app), resources.MakeCanaryHorizontalPodAutoscaler(app, e.Canary)),
		of(pdbGVK, names.Canary(app), resources.MakeCanaryPodDisruptionBudget(app, e.Canary)),
	}
	if e.APIs.CertManager {
		out = append(out, of(certificateGVK, names.Route(app), resources.MakeCertificate(app, e)))
	}
	if e.APIs.GatewayAPI {
		out = append(out,
			of(listenerSetGVK, names.Route(app), resources.MakeListenerSet(app, e)),
			of(httpRouteGVK, names.Route(app), resources.MakeHTTPRoute(app, e)),
			of(httpRouteGVK, names.RedirectRoute(app), resources.MakeRedirectHTTPRoute(app, e)),
		)
	}
	out = append(out,
		of(ingressGVK, names.Route(app), resources.MakeIngress(app, e)),
		of(ingressGVK, names.Canary(app), resources.MakeCanaryIngress(app, e)),
	)
	if e.APIs.ExternalDNS {
		out = append(out, of(dnsEndpointGVK, names.Route(app), resources.MakeDNSEndpoint(app, e)))
	}
	return out
}

// of makes a child; a typed nil pointer from a builder becomes a nil
// desired object.
func of(gvk schema.GroupVersionKind, name string, obj client.Object) child {
	c := child{gvk: gvk, name: name}
	if obj != nil && !reflect.ValueOf(obj).IsNil() {
		c.desired = obj
	}
	return c
}
