// Package conformance runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, profile GATEWAY-HTTP) against
// Pylon's bundled gateway in a local cluster (test/localcluster), and
// writes the ConformanceReport (`make conformance` → report.yaml).
//
// It is a module of its own so that the suite's dependencies never enter
// Pylon's go.mod; `go test ./...` in the main module does not reach it.
package conformance
