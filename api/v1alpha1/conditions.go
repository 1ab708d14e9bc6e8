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
	// ConditionCanaryHealthy reports the canary analysis, while a canary
	// with spec.canary.analysis is declared: True while its figures are in
	// bounds, False when it was rolled back or cannot be judged.
	ConditionCanaryHealthy = "CanaryHealthy"
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
	// ReasonApplyFailed: writing a child failed in a way a retry may cure.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonChildRejected: the API server refused a child as invalid (for
	// example an environment variable name it does not accept): only a
	// change to the WebApp can cure it.
	ReasonChildRejected = "ChildRejected"
	// ReasonAvailable: the Deployment is available and fully rolled out.
	ReasonAvailable = "Available"
	// ReasonDeploymentOutdated: the Deployment controller has not yet observed
	// the Deployment's latest generation.
	ReasonDeploymentOutdated = "DeploymentOutdated"
	// ReasonRollingOut: new Pods are being rolled out.
	ReasonRollingOut = "RollingOut"
	// ReasonUnavailable: fewer Pods are available than the Deployment needs.
	ReasonUnavailable = "Unavailable"
	// ReasonPodsFailing: no Pod is available and the Pods say why: no node
	// accepts them, the kubelet cannot start a container or pull its
	// image, or a container keeps exiting. Not Stalled: a node being
	// added, a Secret about to be created or a registry back up cure it;
	// the Deployment's progress deadline decides when it has stalled.
	ReasonPodsFailing = "PodsFailing"
	// ReasonProgressDeadlineExceeded: the rollout stopped making progress.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonPodsRefused: the API server refuses the Deployment's Pods (Pod
	// Security or another admission policy, a ResourceQuota); the message
	// carries the refusal.
	ReasonPodsRefused = "PodsRefused"
	// ReasonScaledToZero: the Deployment asks for no Pods, so nothing
	// serves the app (Available=False; not Stalled: it is a choice).
	ReasonScaledToZero = "ScaledToZero"
)

// Reasons of the exposure conditions (HostnameClaimed, Routed,
// CertificateReady, DNSReady, CanaryAvailable).
const (
	// ReasonHostnameConflict: another WebApp holds the hostname.
	ReasonHostnameConflict = "HostnameConflict"
	// ReasonHostnameClaimed: this WebApp holds its hostname.
	ReasonHostnameClaimed = "HostnameClaimed"
	// ReasonDomainNotAllowed: the hostname is outside the class's allowedDomains.
	ReasonDomainNotAllowed = "DomainNotAllowed"
	// ReasonNamespaceNotAllowed: the namespace may not use the class.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonExposureClassNotFound: the named class does not exist.
	ReasonExposureClassNotFound = "ExposureClassNotFound"
	// ReasonNoDefaultExposureClass: no class is named and none is the default.
	ReasonNoDefaultExposureClass = "NoDefaultExposureClass"
	// ReasonMultipleDefaultClasses: more than one class claims to be the default.
	ReasonMultipleDefaultClasses = "MultipleDefaultClasses"
	// ReasonHostnameRequired: the class routes by hostname and the WebApp has none.
	ReasonHostnameRequired = "HostnameRequired"
	// ReasonAPINotInstalled: an API the WebApp needs (Gateway API,
	// cert-manager, external-dns) is not installed in the cluster.
	ReasonAPINotInstalled = "APINotInstalled"
	// ReasonRouted: every parent accepted the route (or the Ingress has an address).
	ReasonRouted = "Routed"
	// ReasonPending: waiting for another controller to act on a child.
	ReasonPending = "Pending"
	// ReasonCanaryUnsupported: the Ingress controller cannot split traffic,
	// so the canary gets none.
	ReasonCanaryUnsupported = "CanaryUnsupported"
	// ReasonNoIssuer: TLS mode Auto and neither the WebApp nor its class names an issuer.
	ReasonNoIssuer = "NoIssuer"
	// ReasonIssuerNotAllowed: the WebApp's spec.tls.issuerRef names an
	// issuer its ExposureClass does not allow (spec.tls.issuerRef and
	// spec.tls.allowedIssuers of the class).
	ReasonIssuerNotAllowed = "IssuerNotAllowed"
	// ReasonSecretNotFound, ReasonSecretInvalid, ReasonCertificateExpired,
	// ReasonHostnameNotCovered: why a bring-your-own certificate is refused.
	ReasonSecretNotFound       = "SecretNotFound"
	ReasonSecretInvalid        = "SecretInvalid"
	ReasonCertificateExpired   = "CertificateExpired"
	ReasonHostnameNotCovered   = "HostnameNotCovered"
	ReasonCertificateReady     = "CertificateReady"
	ReasonAddressPending       = "AddressPending"
	ReasonExposureClassInvalid = "ExposureClassInvalid"
)

// Reasons of CertificateReady in TLS mode Auto that Pylon names itself;
// otherwise it copies cert-manager's reasons (see docs/tls-issuers.md).
const (
	// ReasonCertificateIssuing: cert-manager is issuing the Certificate
	// (its Issuing condition is True) and it has no valid certificate yet.
	ReasonCertificateIssuing = "Issuing"
	// ReasonIssuerNotFound: the cert-manager Issuer or ClusterIssuer the
	// Certificate names does not exist, so cert-manager cannot issue it.
	ReasonIssuerNotFound = "IssuerNotFound"
	// ReasonIssuerNotReady: the issuer is not ready and cert-manager gave
	// no reason Pylon can copy.
	ReasonIssuerNotReady = "IssuerNotReady"
)

// Reasons of DNSReady. What Pylon can know depends on the class's DNS mode:
// external-dns writes status back on a DNSEndpoint, never on an annotated
// HTTPRoute or Ingress.
const (
	// ReasonProcessedByExternalDNS (DNSEndpoint mode, True): external-dns processed
	// the DNSEndpoint's current generation: its status.observedGeneration
	// equals metadata.generation. external-dns writes it when a sync reads
	// the object, just before it applies that sync's plan to its provider.
	ReasonProcessedByExternalDNS = "ProcessedByExternalDNS"
	// ReasonWaitingForExternalDNS (DNSEndpoint mode, Unknown): the
	// DNSEndpoint holds records external-dns has not processed yet; the
	// records it published before (if any) may still be served.
	ReasonWaitingForExternalDNS = "WaitingForExternalDNS"
	// ReasonDelegatedToExternalDNS (ExternalDNS mode, True): the route
	// carries external-dns' hostname and TTL annotations and its address is
	// known. That is all Pylon can see: external-dns reports nothing back
	// on an annotated route, so whether it published the record is not
	// known to Pylon.
	ReasonDelegatedToExternalDNS = "DelegatedToExternalDNS"
)

// Reasons for the canary's effective weight (status.canary.weightReason)
// and the CanaryHealthy condition.
const (
	// ReasonWeightDeclared: the canary gets spec.canary.weight.
	ReasonWeightDeclared = "Declared"
	// ReasonCanaryNotAvailable: the canary has no available Pod, so it gets
	// no share.
	ReasonCanaryNotAvailable = "CanaryNotAvailable"
	// ReasonCanaryNoReadyEndpoints: the canary Deployment has an available
	// Pod but the canary Service's EndpointSlices list no ready endpoint
	// yet, so a gateway could not reach it: the canary gets no share.
	ReasonCanaryNoReadyEndpoints = "CanaryNoReadyEndpoints"
	// ReasonStableNotAvailable: the stable track has no available Pod and
	// the canary has, so the canary gets every request.
	ReasonStableNotAvailable = "StableNotAvailable"
	// ReasonAnalysisStep: analysis holds the canary at a step below the
	// declared weight.
	ReasonAnalysisStep = "AnalysisStep"
	// ReasonRolledBack: analysis found the canary out of bounds and set its
	// weight to 0 until its spec changes.
	ReasonRolledBack = "RolledBack"
	// ReasonMetricsUnavailable: analysis is declared but the class has no
	// metrics source Pylon can read, so the canary is not stepped up.
	ReasonMetricsUnavailable = "MetricsUnavailable"
	// ReasonCanaryRetiring: the spec no longer declares this canary (it was
	// removed, set to 0, or promoted by giving spec.image its image); it
	// keeps its share until the stable track is fully available, then
	// drains at weight 0 before its children are deleted.
	ReasonCanaryRetiring = "Retiring"
	// ReasonAnalysisInBounds: the canary's figures are within bounds.
	ReasonAnalysisInBounds = "InBounds"
	// ReasonAnalysisWaiting: too few requests for a verdict yet.
	ReasonAnalysisWaiting = "WaitingForRequests"
)

// Condition types and reasons of an ExposureClass.
const (
	// ConditionAccepted says whether the class can be used.
	ConditionAccepted = "Accepted"
	// ReasonAccepted: the class's Gateway or IngressClass exists.
	ReasonAccepted = "Accepted"
	// ReasonGatewayNotFound: the class's Gateway does not exist.
	ReasonGatewayNotFound = "GatewayNotFound"
	// ReasonIngressClassNotFound: the class's IngressClass does not exist.
	ReasonIngressClassNotFound = "IngressClassNotFound"
)
