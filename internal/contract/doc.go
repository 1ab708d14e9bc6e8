// Package contract holds what the manager and the bundled gateway must agree
// on although neither may import the other (DESIGN.md section 1): the
// controller names the gateway answers to, the ingress-nginx canary
// annotations both speak, how canary weights add up, and the names and
// labels of the per-backend traffic series the gateway exports and the
// manager reads for canary analysis. It holds constants and tiny pure
// helpers only.
package contract
