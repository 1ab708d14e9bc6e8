// Package packaging tests the ways users install Pylon, none of which can be
// tried for real here (no cluster, no registry, no Docker):
//
//   - the image: the Dockerfile's own `go build` commands, parsed from it,
//     must give static binaries that carry the version;
//   - dist/install.yaml, the Helm chart (default and non-default values) and
//     the OLM bundle's install strategy are applied with server-side dry-run
//     to a real kube-apiserver (envtest), after their CRDs and namespaces are
//     created for real;
//   - the OLM bundle passes operator-framework/api's validators, including
//     the optional operatorframework suite; the catalog passes `opm validate`;
//   - every Pod they create meets the restricted Pod Security Standard
//     (k8s.io/pod-security-admission, the admission plugin's own checks);
//   - the chart, bundle and catalog match config/ and the generators, so
//     committed packages never drift from what `make deploy` installs.
//
// Tools come from bin/ (built by the Makefile: make helm opm kustomize); a
// missing tool fails the test with the make target that builds it.
package packaging
