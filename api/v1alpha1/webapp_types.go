package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// WebAppSpec is what an application team declares: one container image served
// over HTTP, how many copies, and how it is exposed.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.autoscaling))",message="set either replicas (a fixed size) or autoscaling (a range), not both",fieldPath=".replicas"
type WebAppSpec struct {
	// Image is the container image to run, e.g. registry.example.com/shop:1.4.2.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="image is required: the container image to run, e.g. registry.example.com/shop:1.4.2"
	// +kubebuilder:validation:XValidation:rule="!self.contains(' ')",message="image must not contain spaces"
	Image string `json:"image"`

	// Port is the container port the application listens on.
	// +kubebuilder:default=8080
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 65535",message="port must be between 1 and 65535"
	// +optional
	Port int32 `json:"port,omitempty"`

	// Replicas is the fixed number of Pods when autoscaling is not set. Default 1.
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="replicas must not be negative"
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Autoscaling lets a HorizontalPodAutoscaler choose the number of Pods.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// Hostname is the fully qualified DNS name the app is served on, e.g.
	// shop.apps.example.com. Omitted: the app is reachable inside the cluster only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('*')",message="hostname must not be a wildcard: name one host, e.g. shop.apps.example.com"
	// +kubebuilder:validation:XValidation:rule="self.lowerAscii() == self",message="hostname must be lower case"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('*') || self.lowerAscii() != self || self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')",message="hostname must be a DNS name such as shop.apps.example.com: labels of a-z, 0-9 and '-' (at most 63 characters each, not starting or ending with '-'), separated by single dots, with no trailing dot"
	// +optional
	Hostname string `json:"hostname,omitempty"`

	// Path is the URL path prefix under the hostname that reaches the app,
	// written as it appears in a URL (RFC 3986), e.g. /shop or /caf%C3%A9.
	// Routers compare it with the request path after normalising that path
	// (RFC 3986 section 6.2.2: escapes of unreserved characters decoded, hex
	// digits upper-cased, dot segments removed; an encoded '/' refused or
	// decoded), so a path that no normalised request path can contain is
	// refused: a '%' that does not start an escape of two hex digits (write
	// a literal '%' as %25), an encoded '/' (%2F), an escape of a letter,
	// digit, '-', '.', '_' or '~' (write the character), lower-case hex
	// digits (%C3, not %c3), '//', '/./' and '/../'. Escapes of other
	// characters (%20, %25, %3F, UTF-8 bytes) are kept; note that
	// ingress-nginx and Pylon's gateway compare against the decoded path.
	// +kubebuilder:default="/"
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="path must start with '/'"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') || self.matches('^/[-A-Za-z0-9/._~!$&()*+,;=:@%]*$')",message="path may contain only URL path characters (no spaces, '?' or '#')"
	// +kubebuilder:validation:XValidation:rule="!self.contains('//') && !self.contains('/./') && !self.contains('/../') && !self.endsWith('/.') && !self.endsWith('/..')",message="path must not contain '//', '/./' or '/../'"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([^%]|%[0-9A-Fa-f]{2})*$')",message="path has a '%' that does not start a percent-escape of two hex digits: write a literal '%' as %25"
	// +kubebuilder:validation:XValidation:rule="!self.matches('%2[Ff]')",message="path must not contain an encoded '/' (%2F): routers refuse or decode it, so no request would match; write '/' to separate segments"
	// +kubebuilder:validation:XValidation:rule="!self.matches('%(3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa]|2[DdEe]|5[Ff]|7[Ee])')",message="path must not percent-encode a letter, digit, '-', '.', '_' or '~' (e.g. %41): routers decode these before matching, so write the character itself"
	// +kubebuilder:validation:XValidation:rule="!self.matches('%([0-9A-Fa-f][a-f]|[a-f][0-9A-Fa-f])')",message="path percent-escapes must use upper-case hex digits (%C3, not %c3): routers upper-case them before matching"
	// +optional
	Path string `json:"path,omitempty"`

	// Exposure selects how the app is exposed.
	// +optional
	Exposure *ExposureSpec `json:"exposure,omitempty"`

	// TLS configures HTTPS for the hostname.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// Canary runs a second image beside the stable one and sends it a share of the traffic.
	// +optional
	Canary *CanarySpec `json:"canary,omitempty"`

	// Availability sets the PodDisruptionBudget. Omitted: maxUnavailable 1 when
	// the app runs 2 or more Pods, no budget for a single Pod.
	// +optional
	Availability *AvailabilitySpec `json:"availability,omitempty"`

	// Command overrides the image's entrypoint.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// Args overrides the image's arguments.
	// +optional
	// +listType=atomic
	Args []string `json:"args,omitempty"`

	// Env sets environment variables in the container.
	// +optional
	// +listType=map
	// +listMapKey=name
	Env []corev1.EnvVar `json:"env,omitempty"`

	// EnvFrom sets environment variables from ConfigMaps and Secrets.
	// +optional
	// +listType=atomic
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// Resources are the container's compute requests and limits.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// ReadinessProbe is an HTTP GET the Pod must answer with 2xx/3xx before it
	// receives traffic. Omitted: a TCP connection to the port.
	// +optional
	ReadinessProbe *ProbeSpec `json:"readinessProbe,omitempty"`

	// LivenessProbe is an HTTP GET whose repeated failure restarts the
	// container. Omitted: no liveness probe.
	// +optional
	LivenessProbe *ProbeSpec `json:"livenessProbe,omitempty"`

	// SecurityContext sets what the app's Pods legitimately need of their
	// security context: a fixed user and group, the group that owns
	// volumes, a read-only root filesystem. Pylon always adds what the
	// restricted Pod Security Standard requires (runAsNonRoot, the
	// RuntimeDefault seccomp profile, every capability dropped, no privilege
	// escalation); nothing here can weaken it.
	// +optional
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`

	// Shutdown is how a Pod being replaced or scaled away stops: it keeps
	// serving for preStopSleepSeconds while the Service endpoints and
	// routers stop sending it requests, then receives SIGTERM and has the
	// rest of terminationGracePeriodSeconds to finish. Omitted: a 5 second
	// sleep within a 30 second grace period.
	// +kubebuilder:validation:XValidation:rule="(has(self.terminationGracePeriodSeconds) ? self.terminationGracePeriodSeconds : 30) > (has(self.preStopSleepSeconds) ? self.preStopSleepSeconds : 5)",message="shutdown.terminationGracePeriodSeconds (default 30) must be greater than shutdown.preStopSleepSeconds (default 5): the grace period includes the sleep, and the container is killed when it ends, so the app would get no time to stop",fieldPath=".terminationGracePeriodSeconds"
	// +optional
	Shutdown *ShutdownSpec `json:"shutdown,omitempty"`

	// ServiceAccountName is the ServiceAccount the Pods run as.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// ImagePullSecrets are Secrets used to pull the image.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// PodAnnotations are added to every Pod.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
}

// AutoscalingSpec bounds a HorizontalPodAutoscaler.
//
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not be greater than autoscaling.maxReplicas",fieldPath=".minReplicas"
type AutoscalingSpec struct {
	// MinReplicas is the fewest Pods the autoscaler keeps.
	// +kubebuilder:default=1
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="autoscaling.minReplicas must be at least 1"
	// +optional
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the most Pods the autoscaler may run.
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="autoscaling.maxReplicas must be at least 1"
	MaxReplicas int32 `json:"maxReplicas"`

	// TargetCPUUtilizationPercentage is the average CPU use, as a percentage of
	// the CPU request, the autoscaler aims for. Default 80 when no target is set.
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 1000",message="autoscaling.targetCPUUtilizationPercentage must be between 1 and 1000"
	// +optional
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`

	// TargetMemoryUtilizationPercentage is the average memory use, as a
	// percentage of the memory request, the autoscaler aims for.
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 1000",message="autoscaling.targetMemoryUtilizationPercentage must be between 1 and 1000"
	// +optional
	TargetMemoryUtilizationPercentage *int32 `json:"targetMemoryUtilizationPercentage,omitempty"`
}

// ExposureSpec selects an ExposureClass.
type ExposureSpec struct {
	// Class is the name of an ExposureClass. Omitted: the cluster's default class.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Class string `json:"class,omitempty"`
}

// TLSMode says where the certificate for the hostname comes from.
// +kubebuilder:validation:Enum=Disabled;Auto;Secret
type TLSMode string

const (
	// TLSDisabled serves plain HTTP.
	TLSDisabled TLSMode = "Disabled"
	// TLSAuto asks cert-manager for a certificate.
	TLSAuto TLSMode = "Auto"
	// TLSSecret uses a kubernetes.io/tls Secret the team provides.
	TLSSecret TLSMode = "Secret"
)

// TLSSpec configures HTTPS.
//
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || self.mode != 'Secret' || (has(self.secretName) && size(self.secretName) > 0)",message="tls.secretName is required when tls.mode is Secret: name the kubernetes.io/tls Secret that holds the certificate",fieldPath=".secretName",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.issuerRef) || !has(self.mode) || self.mode == 'Auto'",message="tls.issuerRef applies only to tls.mode Auto",fieldPath=".issuerRef"
type TLSSpec struct {
	// Mode is Disabled, Auto (cert-manager issues the certificate) or Secret
	// (bring your own). Omitted: the ExposureClass's default, else Disabled.
	// +optional
	Mode TLSMode `json:"mode,omitempty"`

	// SecretName is the kubernetes.io/tls Secret to use (Secret mode) or the one
	// cert-manager writes (Auto mode; default "<name>-tls").
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// RedirectHTTP answers plain HTTP requests with a redirect to HTTPS. Default true.
	// +optional
	RedirectHTTP *bool `json:"redirectHTTP,omitempty"`

	// IssuerRef overrides the ExposureClass's certificate issuer (Auto mode).
	// +optional
	IssuerRef *IssuerReference `json:"issuerRef,omitempty"`
}

// IssuerReference names a cert-manager Issuer or ClusterIssuer.
type IssuerReference struct {
	// Name of the issuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Kind of the issuer.
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	// +kubebuilder:default=ClusterIssuer
	// +optional
	Kind string `json:"kind,omitempty"`

	// Group of the issuer; cert-manager.io unless an external issuer is used.
	// +kubebuilder:default="cert-manager.io"
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`
}

// CanarySpec runs a second image and sends it part of the traffic.
//
// +kubebuilder:validation:XValidation:rule="has(self.image) && size(self.image) > 0",message="canary.image is required: the image the canary runs",fieldPath=".image",reason=FieldValueRequired
type CanarySpec struct {
	// Image is the canary's container image.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Image string `json:"image,omitempty"`

	// Weight is the percentage of requests (0 to 100) the canary receives.
	// +kubebuilder:default=0
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 100",message="canary.weight is a percentage: 0 to 100"
	// +optional
	Weight int32 `json:"weight"`

	// HeaderMatch sends every request carrying this header and value to the
	// canary, whatever the weight.
	// +optional
	HeaderMatch *HeaderMatch `json:"headerMatch,omitempty"`

	// Analysis walks the canary's share up in steps while the traffic it
	// serves stays within bounds of the stable track's, and rolls it back to
	// 0 on a breach. Omitted: the declared weight applies as soon as the
	// canary has an available Pod.
	// +optional
	Analysis *CanaryAnalysis `json:"analysis,omitempty"`
}

// CanaryAnalysis is how Pylon steps a canary up and decides whether it is
// healthy. Figures come from the gateway's per-backend counters (see the
// ExposureClass's metrics), compared between the canary and the stable track
// over the same window.
//
// +kubebuilder:validation:XValidation:rule="!has(self.steps) || self.steps.all(i, i > 0 && i < 100)",message="canary.analysis.steps are percentages between 1 and 99, e.g. [5, 25, 50]",fieldPath=".steps"
// +kubebuilder:validation:XValidation:rule="!has(self.steps) || size(self.steps) < 2 || self.steps.all(a, self.steps.exists_one(b, b == a))",message="canary.analysis.steps must not repeat a weight",fieldPath=".steps"
type CanaryAnalysis struct {
	// Steps are the canary weights, in percent, walked through in order
	// before the declared weight; steps at or above the declared weight are
	// skipped. Empty: one step straight to the declared weight, still
	// analysed.
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	Steps []int32 `json:"steps,omitempty"`

	// StepDuration is how long each step is held and judged before the next.
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5s') && duration(self) <= duration('24h')",message="canary.analysis.stepDuration must be between 5s and 24h, e.g. 1m"
	// +optional
	StepDuration *metav1.Duration `json:"stepDuration,omitempty"`

	// MinRequests is the fewest canary requests a verdict needs. A step that
	// ends with fewer is held until it has them.
	// +kubebuilder:default=50
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 1000000",message="canary.analysis.minRequests must be between 1 and 1000000"
	// +optional
	MinRequests int32 `json:"minRequests,omitempty"`

	// MaxErrorRateIncrease is how many percentage points the canary's error
	// rate (5xx answers, the gateway's own 502/503/504 included) may exceed
	// the stable track's, e.g. 1 allows 1.5% against a stable 0.5%.
	// +kubebuilder:default=1
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 100",message="canary.analysis.maxErrorRateIncrease is in percentage points: 0 to 100"
	// +optional
	MaxErrorRateIncrease *int32 `json:"maxErrorRateIncrease,omitempty"`

	// MaxLatencyRatio bounds the canary's p99 latency to this multiple of the
	// stable track's, as a decimal such as "1.5". Omitted: latency is
	// reported but not judged.
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{1,4}([.][0-9]{1,3})?$') && double(self) >= 1.0",message="canary.analysis.maxLatencyRatio is a decimal of at least 1, e.g. \"1.5\" (canary p99 at most 1.5 times the stable p99)"
	// +optional
	MaxLatencyRatio string `json:"maxLatencyRatio,omitempty"`
}

// HeaderMatch matches one HTTP request header exactly.
type HeaderMatch struct {
	// Name is the header's name, e.g. x-release-track.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9!#$%&*+.^_|~-]+$')",message="canary.headerMatch.name must be an HTTP header name (letters, digits and !#$%&*+.^_|~-)"
	Name string `json:"name"`

	// Value is the header's exact value.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value"`
}

// AvailabilitySpec sets the PodDisruptionBudget of the stable Pods.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.minAvailable) && has(self.maxUnavailable))",message="set either availability.minAvailable or availability.maxUnavailable, not both",fieldPath=".maxUnavailable"
type AvailabilitySpec struct {
	// MinAvailable is how many Pods (or what percentage) must stay up during
	// voluntary disruptions such as node drains.
	// +optional
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// MaxUnavailable is how many Pods (or what percentage) may be down at once
	// during voluntary disruptions.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// SecurityContext is the part of a Pod's security context an app may
// choose. Every field is optional: omitted, the image decides (its USER and
// group) and the root filesystem stays writable.
type SecurityContext struct {
	// RunAsUser is the UID the container runs as. Omitted: the image's USER,
	// which must then be a numeric non-root UID, or the kubelet refuses to
	// start the container (runAsNonRoot is always set).
	// +kubebuilder:validation:XValidation:rule="self != 0",message="securityContext.runAsUser must not be 0: the restricted Pod Security Standard forbids running as root; use the non-root UID the image's files belong to, e.g. 1000"
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 2147483647",message="securityContext.runAsUser is a UID between 1 and 2147483647"
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// RunAsGroup is the primary GID of the container's processes. Omitted:
	// the image's group.
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 2147483647",message="securityContext.runAsGroup is a GID between 0 and 2147483647"
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`

	// FSGroup is a supplementary GID that owns the Pod's volumes that
	// support ownership management (emptyDir, most persistent volumes), so
	// the app can write to them whatever its UID.
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 2147483647",message="securityContext.fsGroup is a GID between 0 and 2147483647"
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`

	// ReadOnlyRootFilesystem mounts the image's filesystem read-only; an
	// empty, writable directory is mounted at /tmp. Default false: an app
	// that writes elsewhere (a cache, a PID file) would fail at run time,
	// not when the WebApp is applied, so the choice is the app team's.
	// +optional
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
}

// ShutdownSpec is how the app's Pods stop.
type ShutdownSpec struct {
	// PreStopSleepSeconds is how long a terminating Pod keeps serving before
	// its container receives SIGTERM (a native preStop sleep, run by the
	// kubelet without a shell in the image): time for the EndpointSlices,
	// the gateway and other routers to stop sending it new requests.
	// Default 5; 0 sends SIGTERM at once.
	// +kubebuilder:validation:XValidation:rule="self >= 0 && self <= 300",message="shutdown.preStopSleepSeconds must be between 0 and 300"
	// +optional
	PreStopSleepSeconds *int32 `json:"preStopSleepSeconds,omitempty"`

	// TerminationGracePeriodSeconds is the time from the Pod's deletion
	// until its container is killed: the preStop sleep, then the app's own
	// shutdown after SIGTERM. Default 30.
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 3600",message="shutdown.terminationGracePeriodSeconds must be between 1 and 3600"
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
}

// ProbeSpec is an HTTP GET probe on the app's port.
type ProbeSpec struct {
	// Path is the URL path to request.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="probe path must start with '/'"
	Path string `json:"path"`

	// InitialDelaySeconds before the first probe.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`

	// PeriodSeconds between probes. Default 10.
	// +kubebuilder:validation:Minimum=1
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`

	// TimeoutSeconds for one probe. Default 1.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`

	// FailureThreshold is how many failures in a row count as failed. Default 3.
	// +kubebuilder:validation:Minimum=1
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// WebAppStatus is what Pylon observed of the WebApp's children.
type WebAppStatus struct {
	// ObservedGeneration is the generation Pylon last applied in full. It
	// defaults to 0, so that a WebApp Pylon has not reconciled yet reads as
	// in progress (kstatus), not as current.
	// +kubebuilder:default=0
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// URL is where the app is served.
	// +optional
	URL string `json:"url,omitempty"`

	// Replicas is the number of stable Pods.
	// +optional
	Replicas int32 `json:"replicas"`

	// ReadyReplicas is the number of stable Pods that are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// Canary reports the canary while one is declared.
	// +optional
	Canary *CanaryStatus `json:"canary,omitempty"`

	// Conditions: Ready summarises Available, CanaryAvailable,
	// HostnameClaimed, Routed, CertificateReady and DNSReady (those that
	// apply). Reconciling and Stalled are present only while True.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CanaryStatus reports the canary: the weight Pylon routes to it now (the
// effective weight), why, and what the gateway measured.
type CanaryStatus struct {
	// Weight is the effective share of traffic, in percent, that the routes
	// give the canary now. It differs from spec.canary.weight while the
	// canary has no available Pod, while analysis steps it up, and after a
	// rollback.
	Weight int32 `json:"weight"`
	// WeightReason says why the effective weight is what it is: Declared,
	// CanaryNotAvailable, StableNotAvailable, AnalysisStep, RolledBack,
	// MetricsUnavailable, CanaryUnsupported or Retiring.
	// +optional
	WeightReason string `json:"weightReason,omitempty"`
	// WeightMessage says the same for people.
	// +optional
	WeightMessage string `json:"weightMessage,omitempty"`
	// LastWeightChangeTime is when the effective weight last changed.
	// +optional
	LastWeightChangeTime *metav1.Time `json:"lastWeightChangeTime,omitempty"`
	// Replicas is the number of canary Pods, of any image.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas is the number of canary Pods that are ready, of any
	// image.
	ReadyReplicas int32 `json:"readyReplicas"`
	// AvailableReplicas is the number of available canary Pods that run
	// Image. While the canary Deployment rolls out a new image, the previous
	// canary's Pods are not counted (it counts none until the rollout is
	// done): they get none of the canary's share.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas"`
	// Image is the canary image this status is about: spec.canary.image, or
	// the image of a canary the spec no longer declares while it retires.
	// +optional
	Image string `json:"image,omitempty"`
	// Revision identifies the canary being judged (a hash of its image and
	// settings): a rollback holds until it changes.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Phase is the analysis phase: Progressing (stepping up), Succeeded (at
	// the declared weight, in bounds), RolledBack, or empty without analysis.
	// +optional
	Phase CanaryPhase `json:"phase,omitempty"`
	// Step is the analysis step being held, from 1 to Steps.
	// +optional
	Step int32 `json:"step,omitempty"`
	// Steps is the number of analysis steps, the declared weight included.
	// +optional
	Steps int32 `json:"steps,omitempty"`
	// StepStartTime is when the current step began.
	// +optional
	StepStartTime *metav1.Time `json:"stepStartTime,omitempty"`
	// Observed is what the gateway measured for each track.
	// +optional
	Observed *ObservedTraffic `json:"observed,omitempty"`
}

// CanaryPhase is where a canary's analysis stands.
type CanaryPhase string

// Canary phases.
const (
	CanaryProgressing CanaryPhase = "Progressing"
	CanarySucceeded   CanaryPhase = "Succeeded"
	CanaryRolledBack  CanaryPhase = "RolledBack"
)

// ObservedTraffic is what the gateway served to each track over a window.
type ObservedTraffic struct {
	// Source names where the figures come from, e.g. pylon-gateway.
	Source string `json:"source"`
	// Start and End bound the window the figures cover.
	Start metav1.Time `json:"start"`
	End   metav1.Time `json:"end"`
	// Stable and Canary are the figures of each track.
	Stable TrackTraffic `json:"stable"`
	Canary TrackTraffic `json:"canary"`
}

// TrackTraffic is one track's share of the requests and how they went.
type TrackTraffic struct {
	// Requests answered in the window.
	Requests int64 `json:"requests"`
	// Errors are 5xx answers, the gateway's own 502/503/504 included.
	Errors int64 `json:"errors"`
	// Share is the percentage of the WebApp's requests this track received,
	// e.g. "10.2".
	// +optional
	Share string `json:"share,omitempty"`
	// SuccessRate is the percentage of answers that were not errors, e.g.
	// "99.95"; empty without requests.
	// +optional
	SuccessRate string `json:"successRate,omitempty"`
	// P99 is the 99th percentile latency, from the histogram's buckets;
	// empty without requests.
	// +optional
	P99 *metav1.Duration `json:"p99,omitempty"`
}

// WebApp is a web application: Pylon runs its image and exposes it under its
// hostname, and reports in its status whether traffic really flows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wa,categories=pylon
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 56",message="WebApp names are at most 56 characters: Pylon names the canary's Service <name>-canary, and a Service name has at most 63"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="WebApp names must start with a letter and contain only a-z, 0-9 and '-', because they name Services (DNS-1035 labels)"
// +kubebuilder:printcolumn:name="Hostname",type=string,JSONPath=`.spec.hostname`
// +kubebuilder:printcolumn:name="Class",type=string,JSONPath=`.spec.exposure.class`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Canary",type=integer,JSONPath=`.status.canary.weight`,description="Effective canary weight in percent"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.canary.phase`,description="Canary analysis phase"
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WebApp struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec WebAppSpec `json:"spec"`
	// +kubebuilder:default={}
	Status WebAppStatus `json:"status,omitempty"`
}

// WebAppList is a list of WebApps.
//
// +kubebuilder:object:root=true
type WebAppList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WebApp `json:"items"`
}
