// Package resources builds the objects a WebApp should have, as pure
// functions of the WebApp: no client, no clock, no map-order dependence. A
// builder returning nil means the object must not exist. The reconciler
// applies what they return with server-side apply and deletes what is nil.
package resources
