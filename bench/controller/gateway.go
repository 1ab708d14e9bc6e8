package main

import (
	"context"
	"log"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// attached counts the WebApps created so far that attach a route to the
// bench Gateway (all but the ClusterLocal quarter).
var attached atomic.Int32

// gatewayStatusEvery is how often the simulated gateway controller looks
// at the count, as the bundled gateway's debounced translator (75 ms)
// rewrites the Gateway's status while routes attach.
const gatewayStatusEvery = 100 * time.Millisecond

// simulateGatewayStatus writes the bench Gateway's status the way the
// bundled gateway does while WebApps are created: listener attachedRoutes
// and attachedListenerSets follow the routes attached, one write per
// change, none while the count is still. envtest runs no Gateway
// controller, so without this the manager would see no Gateway events at
// all, and the cost of what it does with them would go unmeasured. The
// benchmark's own client writes these; they are not counted as the
// manager's writes.
func simulateGatewayStatus(ctx context.Context, c client.Client) {
	key := client.ObjectKey{Namespace: infraNS, Name: gatewayName}
	var written int32 = -1
	tick := time.NewTicker(gatewayStatusEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := attached.Load()
		if n == written {
			continue
		}
		gw := &gwv1.Gateway{}
		if err := c.Get(ctx, key, gw); err != nil {
			log.Printf("simulated gateway status: %v", err)
			continue
		}
		now := metav1.Now()
		cond := func(t, reason string) metav1.Condition {
			return metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: reason, ObservedGeneration: gw.Generation, LastTransitionTime: now}
		}
		gw.Status.Conditions = []metav1.Condition{cond("Accepted", "Accepted"), cond("Programmed", "Programmed")}
		gw.Status.Listeners = []gwv1.ListenerStatus{{
			Name:           "http",
			SupportedKinds: []gwv1.RouteGroupKind{{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: "HTTPRoute"}},
			AttachedRoutes: n,
			Conditions:     []metav1.Condition{cond("Accepted", "Accepted"), cond("Programmed", "Programmed"), cond("ResolvedRefs", "ResolvedRefs")},
		}}
		gw.Status.AttachedListenerSets = ptr.To(n / 3) // the TLS half of the routed three quarters
		if err := c.Status().Update(ctx, gw); err != nil {
			log.Printf("simulated gateway status: %v", err)
			continue
		}
		written = n
	}
}
