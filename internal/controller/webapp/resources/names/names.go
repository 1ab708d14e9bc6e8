// Package names gives the names of a WebApp's children. A WebApp's name is
// validated to at most 56 characters of a DNS-1035 label, so every name here
// (the longest adds "-canary") is a valid 63-character Service name.
package names

import pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"

// CanarySuffix is appended to the names of the canary's children.
const CanarySuffix = "-canary"

// Deployment is the stable Deployment's name.
func Deployment(app *pylonv1alpha1.WebApp) string { return app.Name }

// Service is the stable Service's name.
func Service(app *pylonv1alpha1.WebApp) string { return app.Name }

// HorizontalPodAutoscaler is the stable HPA's name.
func HorizontalPodAutoscaler(app *pylonv1alpha1.WebApp) string { return app.Name }

// PodDisruptionBudget is the stable PDB's name.
func PodDisruptionBudget(app *pylonv1alpha1.WebApp) string { return app.Name }

// Canary is the name of the canary's Deployment, Service and HPA.
func Canary(app *pylonv1alpha1.WebApp) string { return app.Name + CanarySuffix }

// Route is the name of the HTTPRoute, ListenerSet, Ingress, Certificate and
// DNSEndpoint of app.
func Route(app *pylonv1alpha1.WebApp) string { return app.Name }

// RedirectRoute is the HTTPRoute that redirects plain HTTP to HTTPS.
func RedirectRoute(app *pylonv1alpha1.WebApp) string { return app.Name + "-redirect" }

// TLSSecret is the Secret cert-manager writes when the WebApp names none.
func TLSSecret(app *pylonv1alpha1.WebApp) string { return app.Name + "-tls" }
