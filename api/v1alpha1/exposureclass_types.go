package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnnotationIsDefaultClass marks the ExposureClass that WebApps without
// spec.exposure.class use. Exactly one class should carry it with value "true".
const AnnotationIsDefaultClass = "pylon.dev/is-default-class"

// ExposureType is how an ExposureClass exposes WebApps.
// +kubebuilder:validation:Enum=Gateway;Ingress;ClusterLocal
type ExposureType string

const (
	// ExposureGateway attaches an HTTPRoute to a Gateway API Gateway.
	ExposureGateway ExposureType = "Gateway"
	// ExposureIngress creates a networking.k8s.io/v1 Ingress.
	ExposureIngress ExposureType = "Ingress"
	// ExposureClusterLocal exposes nothing outside the cluster.
	ExposureClusterLocal ExposureType = "ClusterLocal"
)

// DNSMode is how DNS records for WebApp hostnames are published.
// +kubebuilder:validation:Enum=None;ExternalDNS;DNSEndpoint
type DNSMode string

const (
	// DNSNone publishes no records.
	DNSNone DNSMode = "None"
	// DNSExternalDNS annotates the route object for external-dns.
	DNSExternalDNS DNSMode = "ExternalDNS"
	// DNSEndpoint creates an external-dns DNSEndpoint object.
	DNSEndpoint DNSMode = "DNSEndpoint"
)

// ExposureClassSpec is a platform team's contract for exposing WebApps.
//
// +kubebuilder:validation:XValidation:rule="self.type != 'Gateway' || has(self.gateway)",message="type Gateway needs spec.gateway: the name and namespace of the Gateway to attach routes to",fieldPath=".gateway",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.type != 'Ingress' || (has(self.ingressClassName) && size(self.ingressClassName) > 0)",message="type Ingress needs spec.ingressClassName",fieldPath=".ingressClassName",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.type == 'Gateway' || !has(self.gateway)",message="spec.gateway applies only to type Gateway",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="self.type == 'Ingress' || !has(self.ingressClassName)",message="spec.ingressClassName applies only to type Ingress",fieldPath=".ingressClassName"
type ExposureClassSpec struct {
	// Type is Gateway (an HTTPRoute on a Gateway API Gateway), Ingress (a
	// networking.k8s.io/v1 Ingress) or ClusterLocal (inside the cluster only).
	Type ExposureType `json:"type"`

	// Gateway is the Gateway that routes of this class attach to (type Gateway).
	// +optional
	Gateway *GatewayReference `json:"gateway,omitempty"`

	// IngressClassName is the IngressClass of Ingresses of this class (type Ingress).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	IngressClassName string `json:"ingressClassName,omitempty"`

	// AllowedDomains limits the hostnames WebApps of this class may use: an
	// exact name, or "*.example.com" for any name under example.com.
	// Omitted: any hostname.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(d, d.matches('^([*][.])?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$'))",message="allowedDomains entries must be lower-case DNS names, optionally starting with '*.', e.g. *.apps.example.com"
	// +listType=set
	// +optional
	AllowedDomains []string `json:"allowedDomains,omitempty"`

	// AllowedNamespaces limits the namespaces whose WebApps may use this
	// class. Omitted: every namespace.
	// +optional
	AllowedNamespaces *AllowedNamespaces `json:"allowedNamespaces,omitempty"`

	// TLS sets the certificate defaults for WebApps of this class.
	// +optional
	TLS *ExposureClassTLS `json:"tls,omitempty"`

	// DNS sets how DNS records are published for WebApps of this class.
	// +optional
	DNS *ExposureClassDNS `json:"dns,omitempty"`

	// Metrics says where Pylon reads the traffic its canaries receive, for
	// status.canary.observed and canary analysis.
	// +optional
	Metrics *ExposureClassMetrics `json:"metrics,omitempty"`
}

// MetricsSource names where canary traffic figures come from.
// +kubebuilder:validation:Enum=PylonGateway;Prometheus;None
type MetricsSource string

// Metrics sources.
const (
	// MetricsPylonGateway reads the bundled gateway's per-backend counters
	// from every gateway replica.
	MetricsPylonGateway MetricsSource = "PylonGateway"
	// MetricsPrometheus queries a Prometheus server that scrapes the
	// gateway's series (pylon_gateway_backend_*).
	MetricsPrometheus MetricsSource = "Prometheus"
	// MetricsNone: no figures; canary analysis is refused.
	MetricsNone MetricsSource = "None"
)

// ExposureClassMetrics configures the metrics source of a class.
//
// +kubebuilder:validation:XValidation:rule="!has(self.source) || self.source != 'Prometheus' || has(self.prometheus)",message="metrics.source Prometheus needs metrics.prometheus.url",fieldPath=".prometheus",reason=FieldValueRequired
type ExposureClassMetrics struct {
	// Source is PylonGateway, Prometheus or None. Omitted: PylonGateway when
	// the class routes through Pylon's bundled gateway, else Prometheus when
	// prometheus is set, else None.
	// +optional
	Source MetricsSource `json:"source,omitempty"`

	// Prometheus is the Prometheus server to query.
	// +optional
	Prometheus *PrometheusSource `json:"prometheus,omitempty"`
}

// PrometheusSource is a Prometheus HTTP API endpoint.
type PrometheusSource struct {
	// URL is the server's base URL, e.g. http://prometheus.monitoring:9090.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^ ]+$')",message="metrics.prometheus.url must be an http:// or https:// URL, e.g. http://prometheus.monitoring:9090"
	URL string `json:"url"`
}

// GatewayReference names a Gateway API Gateway.
type GatewayReference struct {
	// Name of the Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`

	// HTTPListener is the sectionName of the Gateway's plain-HTTP listener
	// routes attach to. Omitted: every listener that accepts the route.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	HTTPListener string `json:"httpListener,omitempty"`
}

// AllowedNamespaces selects namespaces.
//
// +kubebuilder:validation:XValidation:rule="has(self.selector) || (has(self.names) && size(self.names) > 0)",message="allowedNamespaces needs a selector or names"
type AllowedNamespaces struct {
	// Selector matches namespace labels.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// Names lists namespaces by name. A namespace matches when it is named
	// here or matches the selector.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Names []string `json:"names,omitempty"`
}

// ExposureClassTLS holds certificate defaults.
//
// +kubebuilder:validation:XValidation:rule="!has(self.duration) || duration(self.duration) >= duration('1h')",message="tls.duration must be at least 1h (cert-manager's minimum certificate lifetime)",fieldPath=".duration"
// +kubebuilder:validation:XValidation:rule="!has(self.renewBefore) || duration(self.renewBefore) >= duration('5m')",message="tls.renewBefore must be at least 5m (cert-manager's minimum)",fieldPath=".renewBefore"
// +kubebuilder:validation:XValidation:rule="!has(self.renewBefore) || duration(self.renewBefore) < duration(has(self.duration) ? self.duration : '2160h')",message="tls.renewBefore must be shorter than tls.duration (cert-manager's default of 2160h, 90 days, when duration is not set)",fieldPath=".renewBefore"
type ExposureClassTLS struct {
	// IssuerRef is the cert-manager issuer for WebApps in tls.mode Auto.
	// It is always allowed.
	// +optional
	IssuerRef *IssuerReference `json:"issuerRef,omitempty"`

	// AllowedIssuers are the issuers, besides issuerRef, that WebApps of
	// this class may name in spec.tls.issuerRef. An entry of kind Issuer
	// means the Issuer of that name in the WebApp's own namespace. Omitted:
	// only issuerRef. A WebApp naming any other issuer gets no Certificate
	// and CertificateReady=False with reason IssuerNotAllowed.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(i, self.exists_one(j, j.name == i.name && (has(j.kind) ? j.kind : 'ClusterIssuer') == (has(i.kind) ? i.kind : 'ClusterIssuer') && (has(j.group) ? j.group : 'cert-manager.io') == (has(i.group) ? i.group : 'cert-manager.io')))",message="allowedIssuers must not list the same issuer (name, kind and group) twice"
	// +listType=atomic
	// +optional
	AllowedIssuers []IssuerReference `json:"allowedIssuers,omitempty"`

	// DefaultMode is the TLS mode of WebApps that do not set tls.mode.
	// +kubebuilder:default=Disabled
	// +optional
	DefaultMode TLSMode `json:"defaultMode,omitempty"`

	// Duration is the lifetime of the certificates Pylon requests for
	// WebApps of this class (the Certificate's spec.duration), e.g. "2160h".
	// At least 1h. Omitted: the issuer's default (cert-manager: 90 days).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`

	// RenewBefore is how long before a certificate expires cert-manager
	// renews it (the Certificate's spec.renewBefore), e.g. "720h". At least
	// 5m and shorter than duration. Omitted: cert-manager renews when two
	// thirds of the lifetime have passed.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// ExposureClassDNS holds DNS publishing settings.
type ExposureClassDNS struct {
	// Mode is None, ExternalDNS (annotations external-dns reads from the
	// route object) or DNSEndpoint (an external-dns DNSEndpoint object).
	// +kubebuilder:default=None
	// +optional
	Mode DNSMode `json:"mode,omitempty"`

	// TTL of the records in seconds.
	// +kubebuilder:default=300
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 604800",message="dns.ttl must be between 1 second and 604800 (one week)"
	// +optional
	TTL int64 `json:"ttl,omitempty"`
}

// ExposureClassStatus reports whether the class can be used.
type ExposureClassStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Accepted says whether the class's Gateway or IngressClass
	// exists and its settings are usable.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ExposureClass is a platform team's contract for how WebApps are exposed:
// which Gateway or IngressClass, which domains and namespaces may use it, the
// certificate issuer and DNS publishing.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ec,categories=pylon
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Default",type=string,JSONPath=`.metadata.annotations.pylon\.dev/is-default-class`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ExposureClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExposureClassSpec   `json:"spec"`
	Status ExposureClassStatus `json:"status,omitempty"`
}

// ExposureClassList is a list of ExposureClasses.
//
// +kubebuilder:object:root=true
type ExposureClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExposureClass `json:"items"`
}
