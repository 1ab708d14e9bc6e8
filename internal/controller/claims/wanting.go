package claims

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// WebAppsWanting maps a HostnameClaim (its creation, or its deletion, which
// is when waiters may take over) to a request for every WebApp wanting that
// hostname.
//
// It also accepts a WebApp, and then maps to every other WebApp wanting the
// same hostname: a WebApp that was due to go first but is deleted or moves
// away before it ever created the claim leaves no claim event behind, so
// the WebApps waiting for it learn of it only this way.
func (c *Claims) WebAppsWanting(ctx context.Context, obj client.Object) []reconcile.Request {
	var host string
	var self types.UID
	switch o := obj.(type) {
	case *pylonv1alpha1.HostnameClaim:
		host = o.Name
	case *pylonv1alpha1.WebApp:
		host, self = Normalize(o.Spec.Hostname), o.UID
	default:
		return nil
	}
	if host == "" {
		return nil
	}
	list := &pylonv1alpha1.WebAppList{}
	if err := c.Client.List(ctx, list, client.MatchingFields{HostnameIndex: host}); err != nil {
		// A map function cannot return an error; the waiters' own
		// reconciles will look again.
		logf.FromContext(ctx).Error(err, "list WebApps wanting a hostname", "hostname", host)
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].UID == self {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
