package resources

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// MakeService builds the stable Service: ClusterIP, port 80 to the
// container's "http" port, selecting only stable Pods so that a canary's
// share of traffic is decided by the route, not by Pod counts.
func MakeService(app *pylonv1alpha1.WebApp) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(app, names.Service(app)),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: SelectorLabels(app, TrackStable),
			Ports: []corev1.ServicePort{{
				Name:        PortName,
				Port:        ServicePort,
				TargetPort:  intstr.FromString(PortName),
				Protocol:    corev1.ProtocolTCP,
				AppProtocol: ptr.To("http"),
			}},
		},
	}
}
