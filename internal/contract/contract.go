package contract

// Controller names of the bundled gateway.
const (
	// GatewayControllerName is the GatewayClass controllerName the bundled
	// gateway serves.
	GatewayControllerName = "pylon.dev/gateway"
	// IngressControllerName is the IngressClass controller the bundled
	// gateway serves.
	IngressControllerName = "pylon.dev/ingress"
	// IngressNginxControllerName is ingress-nginx's IngressClass controller.
	IngressNginxControllerName = "k8s.io/ingress-nginx"
)

// IngressControllersWithCanary are the IngressClass controllers that
// understand ingress-nginx's canary annotations.
var IngressControllersWithCanary = []string{IngressNginxControllerName, IngressControllerName}

// ingress-nginx annotations Pylon writes and the bundled gateway reads.
const (
	AnnotationCanary              = "nginx.ingress.kubernetes.io/canary"
	AnnotationCanaryWeight        = "nginx.ingress.kubernetes.io/canary-weight"
	AnnotationCanaryWeightTotal   = "nginx.ingress.kubernetes.io/canary-weight-total"
	AnnotationCanaryByHeader      = "nginx.ingress.kubernetes.io/canary-by-header"
	AnnotationCanaryByHeaderValue = "nginx.ingress.kubernetes.io/canary-by-header-value"
	AnnotationSSLRedirect         = "nginx.ingress.kubernetes.io/ssl-redirect"
	AnnotationForceSSLRedirect    = "nginx.ingress.kubernetes.io/force-ssl-redirect"
	CanaryByHeaderAlways          = "always"
	CanaryByHeaderNever           = "never"
)

// Weights.
const (
	// WeightTotal is what the weights of a WebApp's stable and canary
	// backends add up to (percent), and ingress-nginx's default
	// canary-weight-total.
	WeightTotal = 100
	// HeaderRuleWeight is the weight of the single canary backend of the
	// header-match rule: any positive weight sends it every matching request.
	HeaderRuleWeight = 1
)

// Split returns the stable and canary weights of a canary weight w
// (clamped to 0..WeightTotal): they always add up to WeightTotal.
func Split(w int32) (stable, canary int32) {
	canary = min(max(w, 0), WeightTotal)
	return WeightTotal - canary, canary
}

// Per-backend traffic series of the bundled gateway. The manager reads them
// from every gateway replica's admin endpoint (or from Prometheus) to report
// what each canary track received and to judge canary analysis.
const (
	// MetricBackendRequests counts answered requests per route and backend:
	// labels LabelRouteKind, LabelRouteNamespace, LabelRouteName,
	// LabelBackendNamespace, LabelBackendName, LabelCode and LabelOrigin.
	MetricBackendRequests = "pylon_gateway_backend_requests_total"
	// MetricBackendDuration is a histogram of the time to the end of the
	// response per route and backend (seconds), with the same labels less
	// LabelCode and LabelOrigin.
	MetricBackendDuration = "pylon_gateway_backend_request_duration_seconds"

	LabelRouteKind        = "kind"
	LabelRouteNamespace   = "namespace"
	LabelRouteName        = "name"
	LabelBackendNamespace = "backend_namespace"
	LabelBackendName      = "backend"
	// LabelCode is the status class: 1xx, 2xx, 3xx, 4xx or 5xx.
	LabelCode = "code"
	// LabelOrigin says who produced the answer: OriginBackend, or
	// OriginGateway for the gateway's own 502 (connect failure), 503 (no
	// ready endpoint) and 504 (timeout).
	LabelOrigin   = "origin"
	OriginBackend = "backend"
	OriginGateway = "gateway"
)

// Hostname ownership: the bundled gateway serves each hostname from one
// namespace only (the holder of its HostnameClaim, else the namespace of
// the oldest object that asks for it). The manager reads the reasons below
// from route status; the gateway writes them.
const (
	// AnnotationHostnameSharing on a GatewayClass set to
	// HostnameSharingAllowAcrossNamespaces turns ownership off for the
	// Gateways of that class: routes of any namespace the listeners allow
	// may share a hostname, as plain Gateway API specifies. The default
	// (unset or any other value) is strict.
	AnnotationHostnameSharing = "pylon.dev/hostname-sharing"
	// HostnameSharingAllowAcrossNamespaces is the opt-in value.
	HostnameSharingAllowAcrossNamespaces = "AllowAcrossNamespaces"

	// ReasonHostnameOwnedByAnotherNamespace is the reason of an HTTPRoute
	// parent's Accepted=False condition, and of a Served=False condition,
	// when hostnames the route asks for belong to another namespace.
	ReasonHostnameOwnedByAnotherNamespace = "HostnameOwnedByAnotherNamespace"

	// ConditionServed is the implementation-specific route parent
	// condition the bundled gateway writes: True when every hostname the
	// route attaches with is served from the route's namespace, False
	// (ReasonHostnameOwnedByAnotherNamespace, ReasonListenerNotServed,
	// ReasonShadowedByAnotherNamespace) when some or all of them are not.
	ConditionServed = "pylon.dev/Served"
	// ReasonServed is the reason of Served=True.
	ReasonServed = "Served"
	// ReasonListenerNotServed: the listeners the route attached to are
	// not in the routing table (no address, invalid certificates...).
	ReasonListenerNotServed = "ListenerNotServed"
	// ReasonShadowedByAnotherNamespace: a route of another namespace
	// comes first for some of the route's paths (only where hostnames
	// are shared, or on the catch-all).
	ReasonShadowedByAnotherNamespace = "ShadowedByAnotherNamespace"
)
