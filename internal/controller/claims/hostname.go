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

// HolderIndex is a field index on HostnameClaims by the UID of the WebApp
// they name (spec.webApp.uid), so that a WebApp's claims are found in the
// cache without reading every claim in the cluster.
const HolderIndex = "pylon.dev/holder-uid"

// Labels Pylon puts on the claims it creates. The UID label lets people and
// tools find a WebApp's claims (kubectl get -l; a hostname is too long for a
// label value, a UID is not); Pylon itself finds them by HolderIndex, which
// reads the claim's spec rather than a label anyone may edit.
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

// SetupIndex registers HostnameIndex and HolderIndex with the manager's
// cache. Call it once per manager, before the manager starts: registering an
// index twice fails.
func SetupIndex(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &pylonv1alpha1.WebApp{}, HostnameIndex, hostnameIndexValue); err != nil {
		return err
	}
	return idx.IndexField(ctx, &pylonv1alpha1.HostnameClaim{}, HolderIndex, holderIndexValue)
}

func holderIndexValue(o client.Object) []string {
	claim, ok := o.(*pylonv1alpha1.HostnameClaim)
	if !ok || claim.Spec.WebApp.UID == "" {
		return nil
	}
	return []string{string(claim.Spec.WebApp.UID)}
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
