package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// HostnameClaimSpec names the WebApp that holds a hostname.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a HostnameClaim never changes hands: delete it to release the hostname"
type HostnameClaimSpec struct {
	// Hostname is the claimed hostname, lower case, without a trailing dot.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Hostname string `json:"hostname"`

	// WebApp is the holder.
	WebApp WebAppReference `json:"webApp"`
}

// WebAppReference identifies one WebApp, including its UID, so that a claim
// of a deleted WebApp is never mistaken for one of a new WebApp of the same name.
type WebAppReference struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string    `json:"name"`
	UID  types.UID `json:"uid"`
}

// HostnameClaim records which WebApp holds a hostname in the whole cluster.
// Pylon creates one per hostname, named after the hostname: creating it is
// the atomic act of claiming, so two WebApps can never both hold a name.
// Pylon deletes it when the holder is deleted or moves to another hostname.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=pylon
// +kubebuilder:printcolumn:name="Hostname",type=string,JSONPath=`.spec.hostname`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.spec.webApp.namespace`
// +kubebuilder:printcolumn:name="WebApp",type=string,JSONPath=`.spec.webApp.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HostnameClaim struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HostnameClaimSpec `json:"spec"`
}

// HostnameClaimList is a list of HostnameClaims.
//
// +kubebuilder:object:root=true
type HostnameClaimList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HostnameClaim `json:"items"`
}
