// Package gitops checks that GitOps tools read a WebApp's health the way
// Pylon means it: Argo CD through the Lua health check in config/argocd, and
// kstatus (cli-utils; used by Flux, kpt, Config Sync and `kubectl wait`-style
// tooling) through its generic rules. The tests run the real controller in
// envtest and judge the objects it writes, so a change to the status roll-up
// that a GitOps tool would misread fails here.
//
// The Lua VM is set up as Argo CD sets it up: only the base, table and
// package libraries, so the script cannot rely on the string library it would
// not have in Argo CD.
package gitops
