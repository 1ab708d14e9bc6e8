// Package status writes the status the translator computed to the API
// server: GatewayClasses, Gateways, ListenerSets, HTTPRoutes (only this
// controller's status.parents entries) and Ingresses.
//
// Only the elected leader writes (Writer.NeedLeaderElection), while every
// replica serves. A write happens only when the merged status differs from
// what the object carries, so a steady cluster sees no status traffic.
// Conditions keep their lastTransitionTime while their status is unchanged.
package status
