package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
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

// waitConverged polls a watch-fed cache (so that polling adds no load on
// the API server) until want WebApps exist, every one's status is at its
// generation (the reconciler advances observedGeneration only after every
// child was applied, so every child exists), and no WebApp changed for
// settle. It returns when the last WebApp changed: the convergence time.
func waitConverged(ctx context.Context, c client.Reader, want int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		list := &pylonv1alpha1.WebAppList{}
		if err := c.List(ctx, list); err != nil {
			return time.Time{}, fmt.Errorf("list WebApps: %w", err)
		}
		done := 0
		for i := range list.Items {
			a := &list.Items[i]
			if a.Status.ObservedGeneration == a.Generation {
				done++
			}
		}
		last := time.Unix(0, lastWebAppChange.Load())
		if len(list.Items) >= want && done == len(list.Items) && time.Since(last) >= settle {
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
}

func readMemory() memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{HeapInuseMiB: mib(ms.HeapInuse), HeapLiveMiB: mib(ms.HeapAlloc), RSSMiB: rssMiB()}
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
