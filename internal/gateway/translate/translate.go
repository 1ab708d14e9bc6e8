package translate

import (
	"cmp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// translator carries the state of one Translate call.
type translator struct {
	ix       *index
	snap     *Snapshot
	classes  map[string]*classInfo
	gateways []*gatewayInfo // precedence order
	gwByKey  map[string]*gatewayInfo
	sets     []*listenerSetInfo // precedence order
	setByKey map[string]*listenerSetInfo
	ports    map[ir.ListenerKey]portClaim
	table    *tableBuilder
	status   StatusUpdates
	// owners decides which namespace serves each hostname (ownership.go).
	owners         owners
	compiledRoutes map[*gwv1.HTTPRoute]*compiledRoute
}

// Translate computes the routing table and all status for a snapshot. The
// returned table is finalized; callers should still Validate it before
// publishing. The same snapshot always yields an equal table and status.
func Translate(snap *Snapshot) (*ir.Table, StatusUpdates) {
	if snap == nil {
		snap = &Snapshot{}
	}
	t := &translator{
		ix:       newIndex(snap),
		snap:     snap,
		classes:  map[string]*classInfo{},
		gwByKey:  map[string]*gatewayInfo{},
		setByKey: map[string]*listenerSetInfo{},
		ports:    map[ir.ListenerKey]portClaim{},
		table:    newTableBuilder(),

		compiledRoutes: map[*gwv1.HTTPRoute]*compiledRoute{},
	}
	t.processGatewayClasses()
	t.processGateways()
	t.processListenerSets()
	t.validateListeners()
	t.decideOwners()
	t.markListenerSetOwnership()
	t.settleListenerSets()
	t.programListeners()
	t.processHTTPRoutes()
	t.processIngresses()
	slices.SortFunc(t.status.Rejections, func(a, b Rejection) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	t.finishGatewayStatus()
	t.finishListenerSetStatus()
	t.status.IngressLoadBalancer = snap.Options.IngressLoadBalancer
	table := t.table.build()
	t.markShadowed(table)
	return table, t.status
}
