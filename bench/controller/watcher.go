package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/testenv"
)

// watchWebApps starts an informer cache of WebApps for the benchmark's
// convergence checks. Listing 5,000 WebApps from the API server every
// poll made the API server spend a fifth of its CPU on the benchmark
// itself (measured), slowing the manager it measures. The cache keeps only
// what waitConverged reads, so that the memory figures (taken in this
// process) are the manager's and not the benchmark's.
func watchWebApps(ctx context.Context, env *testenv.Env) (cache.Cache, error) {
	c, err := cache.New(rest.CopyConfig(env.Config), cache.Options{Scheme: env.Scheme, DefaultTransform: convergenceOnly})
	if err != nil {
		return nil, fmt.Errorf("new cache: %w", err)
	}
	inf, err := c.GetInformer(ctx, &pylonv1alpha1.WebApp{})
	if err != nil {
		return nil, fmt.Errorf("webapp informer: %w", err)
	}
	changed := func() { lastWebAppChange.Store(time.Now().UnixNano()) }
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { changed() },
		UpdateFunc: func(any, any) { changed() },
		DeleteFunc: func(any) { changed() },
	}); err != nil {
		return nil, fmt.Errorf("webapp informer handler: %w", err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("webapp cache did not sync: %w", ctx.Err())
	}
	return c, nil
}

// lastWebAppChange is when the benchmark's cache last saw a WebApp
// created, changed (spec or status) or deleted, in Unix nanoseconds.
var lastWebAppChange atomic.Int64

// convergenceOnly keeps a WebApp's name, namespace, generation and
// status.observedGeneration.
func convergenceOnly(in any) (any, error) {
	app, ok := in.(*pylonv1alpha1.WebApp)
	if !ok {
		return in, nil
	}
	out := &pylonv1alpha1.WebApp{}
	out.Namespace, out.Name, out.UID = app.Namespace, app.Name, app.UID
	out.ResourceVersion, out.Generation = app.ResourceVersion, app.Generation
	out.Status.ObservedGeneration = app.Status.ObservedGeneration
	return out, nil
}
