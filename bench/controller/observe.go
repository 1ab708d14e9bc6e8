package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// childKinds are the kinds Pylon creates for WebApps, counted by listing
// their metadata.
var childKinds = []schema.GroupVersionKind{
	{Group: "apps", Version: "v1", Kind: "DeploymentList"},
	{Version: "v1", Kind: "ServiceList"},
	{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscalerList"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudgetList"},
	{Group: "cert-manager.io", Version: "v1", Kind: "CertificateList"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ListenerSetList"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRouteList"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "IngressList"},
	{Group: "pylon.dev", Version: "v1alpha1", Kind: "HostnameClaimList"},
}

// countChildren counts objects controlled by a WebApp, by kind (and the
// HostnameClaims, which record who holds a hostname).
func countChildren(ctx context.Context, c client.Client) (map[string]int, int, error) {
	out := map[string]int{}
	total := 0
	for _, gvk := range childKinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk)
		if err := c.List(ctx, list); err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", gvk.Kind, err)
		}
		n := 0
		for _, o := range list.Items {
			if gvk.Kind == "HostnameClaimList" || ownedByWebApp(o.OwnerReferences) {
				n++
			}
		}
		out[strings.TrimSuffix(gvk.Kind, "List")] = n
		total += n
	}
	return out, total, nil
}

func ownedByWebApp(refs []metav1.OwnerReference) bool {
	for _, r := range refs {
		if r.Kind == "WebApp" && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

// settle is how long no WebApp may change before the benchmark calls them
// converged. Every status at its generation is not enough: the first pass
// sets observedGeneration, and later ones still change status as the
// manager learns more (a hostname claim granted, a route attached); the
// writes of those passes are convergence, not steady state.
const settle = 3 * time.Second

// waitConverged polls the watch-fed view of the WebApps (so that polling
// adds no load on the API server) until want WebApps exist, every one's
// status is at its generation (the reconciler advances observedGeneration
// only after every child was applied, so every child exists), and no
// WebApp changed for settle. It returns when the last WebApp changed: the
// convergence time.
func waitConverged(ctx context.Context, w *webApps, want int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		total, done := w.counts()
		last := time.Unix(0, lastWebAppChange.Load())
		if total >= want && done == total && time.Since(last) >= settle {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d WebApps at their generation after %s, last change %s ago", done, want, limit, time.Since(last).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// memory is the in-process manager's memory: Go heap in use after a GC
// (what the manager's caches and queues hold) and the process RSS, which
// also includes this benchmark's own small client.
type memory struct {
	HeapInuseMiB float64 `json:"heapInuseMiB"`
	// HeapLiveMiB is what the objects alive after the GC take (HeapAlloc);
	// in use also counts the free space of spans that hold any.
	HeapLiveMiB float64 `json:"heapLiveMiB"`
	RSSMiB      float64 `json:"rssMiB"`
	// Classes splits the process's memory: the Go runtime's own classes
	// (runtime/metrics /memory/classes/..., MiB) and the RSS by kind of
	// page (smaps_rollup: anonymous vs file-backed, i.e. the binary).
	Classes map[string]float64 `json:"classes,omitempty"`
}

func readMemory() memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{HeapInuseMiB: mib(ms.HeapInuse), HeapLiveMiB: mib(ms.HeapAlloc), RSSMiB: rssMiB(), Classes: memoryClasses()}
}

// memoryClasses reads the runtime's memory classes and the RSS split of
// /proc/self/smaps_rollup, in MiB.
func memoryClasses() map[string]float64 {
	out := map[string]float64{}
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Kind == metrics.KindUint64 {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		out["go:"+strings.TrimSuffix(strings.TrimPrefix(s.Name, "/memory/classes/"), ":bytes")] = mib(s.Value.Uint64())
	}
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		switch k := strings.TrimSuffix(f[0], ":"); k {
		case "Rss", "Anonymous", "Pss_File", "Pss_Anon", "Shared_Clean", "Private_Clean", "Private_Dirty":
			kb, _ := strconv.ParseFloat(f[1], 64)
			out["smaps:"+k] = kb / 1024
		}
	}
	return out
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
