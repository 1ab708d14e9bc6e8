package v1alpha1

// Condition types of a WebApp. Ready summarises the others; Reconciling and
// Stalled follow kstatus' abnormal-true convention: present only while true.
const (
	// ConditionReady is True when every condition that applies is True.
	ConditionReady = "Ready"
	// ConditionAvailable reports the stable Deployment: available and fully
	// rolled out at its latest generation.
	ConditionAvailable = "Available"
	// ConditionCanaryAvailable reports the canary Deployment, while a canary is declared.
	ConditionCanaryAvailable = "CanaryAvailable"
	// ConditionHostnameClaimed reports whether this WebApp holds its hostname.
	ConditionHostnameClaimed = "HostnameClaimed"
	// ConditionRouted reports whether the Ingress or HTTPRoute admits traffic.
	ConditionRouted = "Routed"
	// ConditionCertificateReady reports the TLS certificate.
	ConditionCertificateReady = "CertificateReady"
	// ConditionDNSReady reports the DNS record, when the class publishes one.
	ConditionDNSReady = "DNSReady"
	// ConditionReconciling is True while Pylon is driving the children towards
	// the spec (kstatus: InProgress).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when Pylon cannot make progress without a
	// change by a person (kstatus: Failed).
	ConditionStalled = "Stalled"
)

// Condition reasons. Reasons copied from a child (for example a Deployment's
// "ProgressDeadlineExceeded") are used as they are.
const (
	// ReasonReady: every dependent condition is True.
	ReasonReady = "Ready"
	// ReasonReconciling: Pylon has not finished its first pass over the spec.
	ReasonReconciling = "Reconciling"
	// ReasonNotOwned: an object with the name Pylon needs exists and is not
	// controlled by this WebApp; Pylon never adopts it.
	ReasonNotOwned = "NotOwned"
	// ReasonApplyFailed: the API server refused a child.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonAvailable: the Deployment is available and fully rolled out.
	ReasonAvailable = "Available"
	// ReasonDeploymentOutdated: the Deployment controller has not yet observed
	// the Deployment's latest generation.
	ReasonDeploymentOutdated = "DeploymentOutdated"
	// ReasonRollingOut: new Pods are being rolled out.
	ReasonRollingOut = "RollingOut"
	// ReasonUnavailable: fewer Pods are available than the Deployment needs.
	ReasonUnavailable = "Unavailable"
	// ReasonProgressDeadlineExceeded: the rollout stopped making progress.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
)
