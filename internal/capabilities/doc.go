// Package capabilities tells which optional APIs (Gateway API, cert-manager,
// external-dns) the cluster serves, and notices when one is installed later,
// so that Pylon watches them only when present, never crash-loops on a
// missing CRD, and needs no restart once it appears.
package capabilities
