package webapp

import (
	"sync"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// TrimCachedChild is the manager's cache transform for the kinds a WebApp
// has as children (controller.CacheOptions). A child of a WebApp that
// Pylon's apply owns fields in is cached without the parts of its spec no
// reconcile reads: the applier does not compare cached specs, it compares
// the fingerprint of what Pylon's apply owns (applier.ObjectFingerprint, kept
// on the cached copy, applier.CachedFingerprint) with the one it saw
// when it last read the child in full (applier.Verified). What is kept is
// what the status and canary code read:
//
//   - Deployment: replicas, selector, paused, and each container's name and
//     image (the canary compares images), plus status;
//   - HTTPRoute: parentRefs and hostnames, plus status;
//   - Ingress: the class and each rule's and TLS entry's hosts, plus status;
//   - ListenerSet: its parentRef and each listener's name, hostname, port
//     and protocol, plus status;
//   - Service, HorizontalPodAutoscaler, PodDisruptionBudget, Certificate and
//     DNSEndpoint: metadata and status only.
//
// Objects of these kinds that are not a WebApp's, or in which Pylon's apply
// owns nothing, keep their spec: other namespaces' routes are read for the
// hostnames they serve. Whatever the API server returns where the cached
// fingerprint is kept is never trusted: it is cleared, and the fingerprint
// set only from the object's own managedFields. An object whose fingerprint cannot be computed is cached
// whole, without one: the applier then reads it in full.
func TrimCachedChild(o client.Object) {
	applier.SetCachedFingerprint(o, "")
	if !webAppChild(o) {
		return
	}
	fp, err := applier.ObjectFingerprint(o)
	if err != nil || fp == "" {
		return
	}
	applier.SetCachedFingerprint(o, fp)
	trimChildMeta(o)
	switch t := o.(type) {
	case *appsv1.Deployment:
		containers := make([]corev1.Container, len(t.Spec.Template.Spec.Containers))
		for i, c := range t.Spec.Template.Spec.Containers {
			containers[i] = corev1.Container{Name: c.Name, Image: c.Image}
		}
		t.Spec = appsv1.DeploymentSpec{
			Replicas: t.Spec.Replicas, Selector: t.Spec.Selector, Paused: t.Spec.Paused,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}},
		}
	case *corev1.Service:
		t.Spec = corev1.ServiceSpec{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		t.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{}
	case *policyv1.PodDisruptionBudget:
		t.Spec = policyv1.PodDisruptionBudgetSpec{}
	case *certmanagerv1.Certificate:
		t.Spec = certmanagerv1.CertificateSpec{}
	case *externaldnsv1alpha1.DNSEndpoint:
		t.Spec = externaldnsv1alpha1.DNSEndpointSpec{}
	case *gwv1.ListenerSet:
		listeners := make([]gwv1.ListenerEntry, len(t.Spec.Listeners))
		for i, l := range t.Spec.Listeners {
			listeners[i] = gwv1.ListenerEntry{Name: l.Name, Hostname: l.Hostname, Port: l.Port, Protocol: l.Protocol}
		}
		t.Spec = gwv1.ListenerSetSpec{ParentRef: t.Spec.ParentRef, Listeners: listeners}
	case *gwv1.HTTPRoute:
		t.Spec = gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: t.Spec.ParentRefs}, Hostnames: t.Spec.Hostnames}
	case *networkingv1.Ingress:
		rules := make([]networkingv1.IngressRule, len(t.Spec.Rules))
		for i, r := range t.Spec.Rules {
			rules[i] = networkingv1.IngressRule{Host: r.Host}
		}
		tls := make([]networkingv1.IngressTLS, len(t.Spec.TLS))
		for i, x := range t.Spec.TLS {
			tls[i] = networkingv1.IngressTLS{Hosts: x.Hosts}
		}
		t.Spec = networkingv1.IngressSpec{IngressClassName: t.Spec.IngressClassName, Rules: rules, TLS: tls}
	}
}

// trimChildMeta keeps of a WebApp child's metadata what reconciles read,
// and lets it share strings instead of holding copies (metadata is most of
// what a cached child without its spec weighs):
//
//   - no labels: hostname lookups, the one reader of a child's labels,
//     know a cached child by its fingerprint (pylonChild);
//   - annotations: only a Deployment's revision (pods.go). The applied
//     hash is not needed: the fingerprint covers it (applier.Verified), and
//     the fingerprint itself is kept outside the annotations
//     (applier.CachedFingerprint): a map per child weighs ~350 bytes;
//   - the namespace and the owner reference's group and kind are shared
//     (one copy per process), and an owner name equal to the object's name
//     shares its name.
func trimChildMeta(o client.Object) {
	name := o.GetName()
	o.SetNamespace(InternNamespace(o.GetNamespace()))
	refs := o.GetOwnerReferences()
	for i := range refs {
		r := &refs[i]
		if r.APIVersion == webAppAPIVersion {
			r.APIVersion = webAppAPIVersion
		}
		if r.Kind == "WebApp" {
			r.Kind = "WebApp"
		}
		if r.Name == name {
			r.Name = name
		}
	}
	var annotations map[string]string
	if _, ok := o.(*appsv1.Deployment); ok {
		if v, ok := o.GetAnnotations()[revisionAnnotation]; ok {
			annotations = map[string]string{revisionAnnotation: v}
		}
	}
	o.SetAnnotations(annotations)
	o.SetLabels(nil)
}

// webAppAPIVersion is the owner reference apiVersion of a WebApp, one copy.
var webAppAPIVersion = pylonv1alpha1.GroupVersion.String()

// namespaces holds one copy of each namespace name cached children live in
// (a cluster has few namespaces, and a name costs a few bytes: it is not
// evicted).
var namespaces sync.Map

// InternNamespace returns the process's one copy of the namespace name ns.
func InternNamespace(ns string) string {
	if v, ok := namespaces.Load(ns); ok {
		return v.(string)
	}
	v, _ := namespaces.LoadOrStore(ns, ns)
	return v.(string)
}

// webAppChild reports whether a WebApp is o's controller.
func webAppChild(o client.Object) bool {
	ref := metav1.GetControllerOfNoCopy(o)
	return ref != nil && ref.Kind == "WebApp" && ref.APIVersion == pylonv1alpha1.GroupVersion.String()
}
