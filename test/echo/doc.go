// Package echo is Pylon's echo backend: an HTTP handler that answers every
// request with a JSON description of it, following the echo contract of the
// Gateway API conformance suite (path, host, method, proto, headers,
// namespace, pod, tls), plus the Pod's image so end-to-end tests can tell
// stable from canary Pods. The local cluster's simulated node serves it for
// every Pod; the upstream echo image cannot be used here (no container
// runtime, and its module is not on the proxy).
package echo
