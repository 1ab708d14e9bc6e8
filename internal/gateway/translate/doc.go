// Package translate turns a snapshot of cluster objects into the gateway's
// routing table (package ir) and the status every object should carry.
//
// Translate is a pure function: no clients, no clock, no dependence on map
// iteration or input order. The watch layer builds a Snapshot after a
// debounce, calls Translate, validates and publishes the table, and hands the
// StatusUpdates to the status writer, which merges them with what other
// controllers wrote (route status.parents entries of other controllers are
// never produced here and must be kept by the writer).
//
// It implements Gateway API (standard channel) for GatewayClasses whose
// controllerName is ControllerName, and networking.k8s.io/v1 Ingress for
// IngressClasses whose controller is IngressControllerName.
package translate
