// Package latecrds holds one test: Pylon started in a cluster without the
// optional APIs (Gateway API, cert-manager) reports what is missing, and
// picks the APIs up without a restart once they are installed. It needs an
// API server of its own, started without those CRDs.
package latecrds
