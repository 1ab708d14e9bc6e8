// Package webapp reconciles WebApps: observe the WebApp, declare its children
// with the pure builders of package resources, apply them (package applier),
// and report their health in the WebApp's status, written once per reconcile
// and only when it changed.
package webapp
