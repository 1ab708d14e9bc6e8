package claims

import (
	"context"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// HostnameIndex is a field index on WebApps by their normalized
// spec.hostname, so that the WebApps wanting a hostname are found in the
// cache without listing every WebApp in the cluster.
const HostnameIndex = "pylon.dev/hostname"

// Labels Pylon puts on the claims it creates. The UID label lets a holder
// find its claims without reading every claim in the cluster (a hostname is
// too long for a label value, a UID is not).
const (
	LabelWebAppUID = "pylon.dev/webapp-uid"
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "pylon"
)

// Normalize returns hostname as Pylon compares and stores it: lower case,
// without one trailing dot. The WebApp API already refuses both, but claims
// are the one place where two spellings of a name must never count as two
// names, so the comparison does not rely on admission alone.
func Normalize(hostname string) string {
	return strings.ToLower(strings.TrimSuffix(hostname, "."))
}

// SetupIndex registers HostnameIndex with the manager's cache. Call it once
// per manager, before the manager starts: registering an index twice fails.
func SetupIndex(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &pylonv1alpha1.WebApp{}, HostnameIndex, hostnameIndexValue)
}

func hostnameIndexValue(o client.Object) []string {
	app, ok := o.(*pylonv1alpha1.WebApp)
	if !ok {
		return nil
	}
	if h := Normalize(app.Spec.Hostname); h != "" {
		return []string{h}
	}
	return nil
}

// wants reports whether app, as read, still wants hostname host: it exists,
// is not being deleted and names host.
func wants(app *pylonv1alpha1.WebApp, host string) bool {
	return app.DeletionTimestamp.IsZero() && Normalize(app.Spec.Hostname) == host
}

// ref is the reference a claim stores for app.
func ref(app *pylonv1alpha1.WebApp) pylonv1alpha1.WebAppReference {
	return pylonv1alpha1.WebAppReference{Namespace: app.Namespace, Name: app.Name, UID: app.UID}
}

// refString is "<namespace>/<name>", as messages name a WebApp.
func refString(r pylonv1alpha1.WebAppReference) string {
	return r.Namespace + "/" + r.Name
}
