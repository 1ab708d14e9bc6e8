// Package e2e tests Pylon end to end on a real control plane
// (test/localcluster): WebApps are applied, the manager and the bundled
// gateway run as processes of their own with their RBAC, and real HTTP(S)
// requests go through the gateway to Pods served by the simulated node.
//
// The tests run only when the binaries they need are built (`make
// e2e-deps`, which `make test` does); otherwise TestMain reports what is
// missing and the package passes without running them.
package e2e
