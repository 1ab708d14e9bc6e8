// Package echo is Pylon's echo backend: an HTTP handler that answers every
// request with a JSON description of it, following the echo contract of the
// Gateway API conformance suite (path, host, method, proto, headers,
// namespace, pod, tls), plus the Pod's image so end-to-end tests can tell
// stable from canary Pods. The local cluster's simulated node serves it for
// every Pod; the upstream echo image cannot be used here (no container
// runtime, and its module is not on the proxy).
//
// Long-lived exchanges: /ws echoes WebSocket frames, GET /sse streams
// numbered server-sent events that resume after a reconnect's
// Last-Event-ID. A server that puts WithStopping in its BaseContext ends
// both cleanly (after a whole event; with a close frame) when it begins to
// shut down, as a well-behaved app does on SIGTERM.
//
// # Faults
//
// End-to-end tests of canary analysis need Pods that misbehave. The
// simulated node reads knobs from each container and serves FaultyHandler:
//
//	ECHO_FAIL_PERCENT=N   N% (0-100) of requests answer 500, evenly spread:
//	                      10 fails exactly the 10th, 20th, ... request
//	ECHO_DELAY=50ms       every request waits this long (at most 30s, like ?delay=)
//	ECHO_NEVER_READY=true the Pod is served but never marked Ready
//
// A WebApp's stable and canary Pods share one env list, so the same knobs
// can also sit in the image tag, which differs: example.test/echo:fail-30,
// :never-ready, :slow-50ms, or several joined by '_' as in
// :fail-10_slow-20ms. Tag parts that are no knob (1.2.0, v2) are ignored;
// an environment variable that is set wins over the tag's knob of the same
// kind. Only env values written in the Pod spec count (no valueFrom or
// envFrom: the simulated node reads no ConfigMaps). A malformed knob keeps
// the Pod not Ready with the reason InvalidEchoFaults instead of being
// ignored. Readiness probes (User-Agent kube-probe/...) are never failed or
// delayed, and injected failures carry the header X-Echo-Fault: injected.
package echo
