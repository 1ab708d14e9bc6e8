// Package v1alpha1 is a minimal copy of external-dns' DNSEndpoint type
// (externaldns.k8s.io/v1alpha1, external-dns v0.22.0), matching its CRD.
// Importing external-dns itself would pull its whole dependency graph into
// Pylon, and its AddToScheme omits metav1.AddToGroupVersion.
// +kubebuilder:object:generate=true
// +kubebuilder:skip
// +groupName=externaldns.k8s.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion of DNSEndpoint.
var GroupVersion = schema.GroupVersion{Group: "externaldns.k8s.io", Version: "v1alpha1"}

// AddToScheme registers DNSEndpoint.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &DNSEndpoint{}, &DNSEndpointList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Endpoint is one DNS record.
type Endpoint struct {
	DNSName    string            `json:"dnsName,omitempty"`
	Targets    []string          `json:"targets,omitempty"`
	RecordType string            `json:"recordType,omitempty"`
	RecordTTL  int64             `json:"recordTTL,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// DNSEndpointSpec lists the records.
type DNSEndpointSpec struct {
	Endpoints []*Endpoint `json:"endpoints,omitempty"`
}

// DNSEndpointStatus is written by external-dns.
type DNSEndpointStatus struct {
	// ObservedGeneration is the generation external-dns last processed.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// DNSEndpoint asks external-dns to publish records.
// +kubebuilder:object:root=true
type DNSEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DNSEndpointSpec   `json:"spec,omitempty"`
	Status            DNSEndpointStatus `json:"status,omitempty"`
}

// DNSEndpointList is a list of DNSEndpoints.
// +kubebuilder:object:root=true
type DNSEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DNSEndpoint `json:"items"`
}
