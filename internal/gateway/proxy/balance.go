package proxy

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// Balancing state outlives tables. A busy cluster publishes a table every
// few hundred milliseconds (any Service, EndpointSlice or route anywhere);
// if each table started its weighted picks and endpoint rotation afresh,
// every table would serve its first picks to the heaviest backend and the
// first endpoint, and a 10% canary would get nothing. So the state is keyed
// by what it balances, not by table pointers, and handed from one State to
// the next; only a change of that identity starts it over.

// actionIdentity names an action by the rule it came from and the backends
// and weights it splits between. Actions sharing a source rule and backend
// list (e.g. two paths of one Ingress rule) are told apart by ordinal, their
// order in the table, which only the source itself can change.
func actionIdentity(r *ir.Route, a *ir.Action) string {
	var b strings.Builder
	s := r.Source
	b.WriteString(s.Kind + "/" + s.Namespace + "/" + s.Name + "#" + strconv.Itoa(s.Rule))
	for _, be := range a.Backends {
		b.WriteString("|" + be.Namespace + "/" + be.Name + ":" + strconv.Itoa(int(be.Port)) + "=" + strconv.Itoa(int(be.Weight)))
	}
	return b.String()
}

// rotation is a backend's round-robin position over its endpoints. It is
// keyed by the backend's transport key (namespace, name, port, protocol):
// every route to the same Service port shares it, so the endpoints see an
// even load whichever route the requests came through.
type rotation struct{ next atomic.Uint64 }

// turn returns the position for this pick.
func (r *rotation) turn() uint64 { return r.next.Add(1) - 1 }

// wrr is smooth weighted round robin (as in nginx): over any window of
// total picks each backend is chosen exactly its weight times, and picks
// are spread out rather than bunched. It works on positions in the
// action's backend list, so it serves every table whose action has the
// same identity.
type wrr struct {
	mu      sync.Mutex
	weights []int64
	current []int64
	total   int64
}

func newWRR(bs []*ir.Backend) *wrr {
	w := &wrr{weights: make([]int64, len(bs)), current: make([]int64, len(bs))}
	for i, b := range bs {
		w.weights[i] = int64(b.Weight)
		w.total += int64(b.Weight)
	}
	return w
}

// pick returns the position of the next backend, or -1 when all weights
// are zero.
func (w *wrr) pick() int {
	if w.total == 0 {
		return -1
	}
	if len(w.weights) == 1 {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	best := -1
	for i, wt := range w.weights {
		w.current[i] += wt
		if best < 0 || w.current[i] > w.current[best] {
			best = i
		}
	}
	w.current[best] -= w.total
	return best
}
