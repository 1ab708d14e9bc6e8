package resources

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// MakeHorizontalPodAutoscaler builds the stable Deployment's HPA, or nil
// when autoscaling is not set.
func MakeHorizontalPodAutoscaler(app *pylonv1alpha1.WebApp) *autoscalingv2.HorizontalPodAutoscaler {
	a := app.Spec.Autoscaling
	if a == nil {
		return nil
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: objectMeta(app, names.HorizontalPodAutoscaler(app)),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1",
				Kind:       "Deployment",
				Name:       names.Deployment(app),
			},
			MinReplicas: ptr.To(max(a.MinReplicas, 1)),
			MaxReplicas: a.MaxReplicas,
			Metrics:     metrics(a),
		},
	}
}

// metrics lists CPU then memory utilisation targets; CPU at 80% when the
// WebApp names neither.
func metrics(a *pylonv1alpha1.AutoscalingSpec) []autoscalingv2.MetricSpec {
	cpu, mem := a.TargetCPUUtilizationPercentage, a.TargetMemoryUtilizationPercentage
	if cpu == nil && mem == nil {
		cpu = ptr.To(DefaultTargetCPUUtilization)
	}
	var out []autoscalingv2.MetricSpec
	for _, m := range []struct {
		name   corev1.ResourceName
		target *int32
	}{{corev1.ResourceCPU, cpu}, {corev1.ResourceMemory, mem}} {
		if m.target == nil {
			continue
		}
		out = append(out, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: m.name,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptr.To(*m.target),
				},
			},
		})
	}
	return out
}
