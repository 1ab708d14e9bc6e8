package resources

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Label keys Pylon sets on every child. Pylon never copies
// app.kubernetes.io/instance or Argo CD's tracking annotation from the
// WebApp: Argo CD would then take the children for its own.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelWebApp    = "pylon.dev/webapp"
	// LabelTrack tells stable Pods from canary Pods; it is part of the
	// (immutable) Deployment selector.
	LabelTrack = "pylon.dev/track"

	ManagedByPylon = "pylon"
	TrackStable    = "stable"
	TrackCanary    = "canary"
)

// Labels are the labels of every child of app.
func Labels(app *pylonv1alpha1.WebApp) map[string]string {
	return map[string]string{
		LabelName:      app.Name,
		LabelManagedBy: ManagedByPylon,
		LabelWebApp:    app.Name,
	}
}

// SelectorLabels select the Pods of one track of app.
func SelectorLabels(app *pylonv1alpha1.WebApp, track string) map[string]string {
	return map[string]string{
		LabelWebApp: app.Name,
		LabelTrack:  track,
	}
}

// PodLabels are the labels of the Pods of one track.
func PodLabels(app *pylonv1alpha1.WebApp, track string) map[string]string {
	l := Labels(app)
	l[LabelTrack] = track
	return l
}

// objectMeta is the metadata of a child named name: namespace, labels and a
// controller owner reference to app.
func objectMeta(app *pylonv1alpha1.WebApp, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       app.Namespace,
		Labels:          Labels(app),
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(app, pylonv1alpha1.GroupVersion.WithKind("WebApp"))},
	}
}
