// Package docs checks that the documentation tells the truth as far as can be
// checked without a cluster:
//
//   - every command in README.md (and the docs/ pages it points to for
//     testing, conformance and performance) works as written: make targets
//     exist (`make -n`), files and directories exist, kustomize directories
//     build, Helm commands render the chart, kubectl names real resources;
//   - every kustomize directory and package the docs tell users to apply
//     gives Deployments whose containers have an image and a command;
//   - every sample WebApp (config/samples, the chart's NOTES.txt, README)
//     runs a pinned public image that serves HTTP as a non-root user;
//   - docs/troubleshooting.md explains every condition type and reason in
//     api/v1alpha1/conditions.go, and no reason that no longer exists;
//   - README.md stays under 250 lines and its relative links resolve.
//
// Tools come from bin/ (make kustomize helm); a missing tool fails the test
// with the make target that builds it.
package docs
