package resources

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

func ingressRouting(e Exposure) bool {
	return e.routeType() == pylonv1alpha1.ExposureIngress
}

// MakeIngress builds the Ingress of a WebApp of an Ingress class.
func MakeIngress(app *pylonv1alpha1.WebApp, e Exposure) *networkingv1.Ingress {
	if !ingressRouting(e) {
		return nil
	}
	ing := ingress(app, e, names.Route(app), names.Service(app))
	ann := routeAnnotations(e)
	if e.TLS.Enabled() && e.IngressCanary {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[contract.AnnotationSSLRedirect] = strconv.FormatBool(e.TLS.Redirect)
	}
	ing.ObjectMeta = withAnnotations(ing.ObjectMeta, ann)
	return ing
}

// MakeCanaryIngress builds the second Ingress that ingress-nginx (and
// Pylon's gateway) read as the canary of the first. Controllers without
// canary support get none; the reconciler reports CanaryUnsupported.
func MakeCanaryIngress(app *pylonv1alpha1.WebApp, e Exposure) *networkingv1.Ingress {
	if !ingressRouting(e) || !e.Canary.Run || !e.IngressCanary {
		return nil
	}
	ing := ingress(app, e, names.Canary(app), names.Canary(app))
	ann := map[string]string{
		contract.AnnotationCanary:       "true",
		contract.AnnotationCanaryWeight: strconv.Itoa(int(e.Canary.Weight)),
	}
	if h := e.Canary.HeaderMatch; h != nil {
		ann[contract.AnnotationCanaryByHeader] = h.Name
		ann[contract.AnnotationCanaryByHeaderValue] = h.Value
	}
	ing.ObjectMeta = withAnnotations(ing.ObjectMeta, ann)
	return ing
}

func ingress(app *pylonv1alpha1.WebApp, e Exposure, name, service string) *networkingv1.Ingress {
	path := app.Spec.Path
	if path == "" {
		path = "/"
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: objectMeta(app, name),
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To(e.Class.Spec.IngressClassName),
			Rules: []networkingv1.IngressRule{{
				Host: e.Hostname,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     path,
						PathType: ptr.To(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: service,
							Port: networkingv1.ServiceBackendPort{Number: ServicePort},
						}},
					}},
				}},
			}},
		},
	}
	if e.TLS.Enabled() {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{e.Hostname}, SecretName: e.TLS.SecretName}}
	}
	return ing
}
