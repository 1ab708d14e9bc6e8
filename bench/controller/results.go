package main

// results are the figures the report shows, in JSON for bench/results.json.
type results struct {
	Apps         int     `json:"apps"`
	Large        int     `json:"large"`
	Concurrency  int     `json:"concurrency"`
	QuietSeconds float64 `json:"quietSeconds"`
	MemoryKind   string  `json:"memoryKind"`

	CreateSeconds   float64        `json:"createSeconds"`
	ConvergeSeconds float64        `json:"convergeSeconds"`
	ConvergeWrites  writes         `json:"convergeWrites"`
	ConvergeCPU     cpuSplit       `json:"convergeCPU"`
	Children        map[string]int `json:"children"`
	ChildrenTotal   int            `json:"childrenTotal"`
	// Per WebApp: writes (without events), children, and the target
	// children + 2.
	WritesPerApp   float64 `json:"writesPerApp"`
	ChildrenPerApp float64 `json:"childrenPerApp"`
	TargetPerApp   float64 `json:"targetWritesPerApp"`

	Reconcile reconcileStats `json:"reconcile"`
	// Reconciles of the webapp controller (controller_runtime_reconcile_total)
	// from the first create until all converged, during the quiet period
	// after, and from the first create of the large batch until it
	// converged; per WebApp created.
	ConvergeReconciles    float64 `json:"convergeReconciles"`
	ReconcilesPerApp      float64 `json:"reconcilesPerApp"`
	QuietReconciles       float64 `json:"quietReconciles"`
	LargeReconciles       float64 `json:"largeReconciles"`
	LargeReconcilesPerApp float64 `json:"largeReconcilesPerApp"`

	QuietWrites   writes  `json:"quietWrites"`
	ResyncSeconds float64 `json:"resyncSeconds"`
	ResyncWrites  writes  `json:"resyncWrites"`

	LargeConvergeSeconds float64  `json:"largeConvergeSeconds"`
	LargeWrites          writes   `json:"largeWrites"`
	LargeCPU             cpuSplit `json:"largeCPU"`
	MemoryApps           memory   `json:"memoryApps"`
	MemoryLarge          memory   `json:"memoryLarge"`
	// MemoryLargeLimited is the memory at the large count once a Go soft
	// memory limit was set (cmd/manager sets memlimit.SoftLimit of the container's limit)
	// and the runtime had time to act on it.
	MemoryLargeLimited memory  `json:"memoryLargeLimited"`
	MemoryLimitMiB     float64 `json:"memoryLimitMiB"`
	// LimitFromStart: the limit was set when the process started, as
	// cmd/manager sets it in its container, so MemoryLarge is under it
	// too (and MemoryLargeLimited is the same limit 15 s later).
	LimitFromStart bool `json:"limitFromStart"`
}

func (r *results) finish() {
	n := float64(r.Apps)
	r.WritesPerApp = float64(r.ConvergeWrites.Total()) / n
	r.ChildrenPerApp = float64(r.ChildrenTotal) / n
	r.TargetPerApp = r.ChildrenPerApp + 2
	r.ReconcilesPerApp = r.ConvergeReconciles / n
	if r.Large > r.Apps {
		r.LargeReconcilesPerApp = r.LargeReconciles / float64(r.Large-r.Apps)
	}
	r.Reconcile.P50, r.Reconcile.P99 = finite(r.Reconcile.P50), finite(r.Reconcile.P99)
}
