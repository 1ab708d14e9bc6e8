// Package v1alpha1 contains the pylon.dev/v1alpha1 API: WebApp, which an
// application team writes, and ExposureClass, which a platform team writes.
// It depends only on k8s.io/api and k8s.io/apimachinery, so that other
// projects can import it cheaply.
// +kubebuilder:object:generate=true
// +groupName=pylon.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "pylon.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&WebApp{}, &WebAppList{},
		&ExposureClass{}, &ExposureClassList{},
		&HostnameClaim{}, &HostnameClaimList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
