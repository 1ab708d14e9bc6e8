package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/testenv"
)

// webApps is the benchmark's view of the WebApps for its convergence
// checks, fed by a watch. Listing 5,000 WebApps from the API server every
// poll made the API server spend a fifth of its CPU on the benchmark
// itself (measured), slowing the manager it measures. It keeps two numbers
// per WebApp, not an informer cache of WebApps (~3 MB at 5,000), so that
// the memory figures (taken in this process) are the manager's.
type webApps struct {
	mu   sync.Mutex
	gens map[types.UID]generations
}

type generations struct{ generation, observed int64 }

// counts returns how many WebApps exist and how many have their status at
// their generation.
func (w *webApps) counts() (total, done int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, g := range w.gens {
		if g.generation == g.observed {
			done++
		}
	}
	return len(w.gens), done
}

func (w *webApps) set(app *pylonv1alpha1.WebApp, deleted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if deleted {
		delete(w.gens, app.UID)
	} else {
		w.gens[app.UID] = generations{app.Generation, app.Status.ObservedGeneration}
	}
	lastWebAppChange.Store(time.Now().UnixNano())
}

// watchWebApps lists the WebApps and follows them with a watch, listing
// again whenever the watch ends.
func watchWebApps(ctx context.Context, env *testenv.Env) (*webApps, error) {
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	w := &webApps{gens: map[types.UID]generations{}}
	rv, err := w.list(ctx, c)
	if err != nil {
		return nil, err
	}
	go func() {
		for ctx.Err() == nil {
			if err := w.follow(ctx, c, rv); err != nil && ctx.Err() == nil {
				log.Printf("watch WebApps: %v; listing again", err)
			}
			for ctx.Err() == nil {
				if rv, err = w.list(ctx, c); err == nil {
					break
				}
				time.Sleep(time.Second)
			}
		}
	}()
	return w, nil
}

func (w *webApps) list(ctx context.Context, c client.Reader) (string, error) {
	list := &pylonv1alpha1.WebAppList{}
	if err := c.List(ctx, list); err != nil {
		return "", fmt.Errorf("list WebApps: %w", err)
	}
	w.mu.Lock()
	clear(w.gens)
	for i := range list.Items {
		a := &list.Items[i]
		w.gens[a.UID] = generations{a.Generation, a.Status.ObservedGeneration}
	}
	w.mu.Unlock()
	lastWebAppChange.Store(time.Now().UnixNano())
	return list.ResourceVersion, nil
}

func (w *webApps) follow(ctx context.Context, c client.WithWatch, rv string) error {
	wi, err := c.Watch(ctx, &pylonv1alpha1.WebAppList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
	if err != nil {
		return err
	}
	defer wi.Stop()
	for ev := range wi.ResultChan() {
		switch ev.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			if app, ok := ev.Object.(*pylonv1alpha1.WebApp); ok {
				w.set(app, ev.Type == watch.Deleted)
			}
		case watch.Error:
			return apimetaStatus(ev.Object)
		}
	}
	return fmt.Errorf("watch closed")
}

func apimetaStatus(o any) error {
	if s, ok := o.(*metav1.Status); ok {
		return fmt.Errorf("watch error: %s", s.Message)
	}
	if m, err := apimeta.Accessor(o); err == nil {
		return fmt.Errorf("watch error on %s", m.GetName())
	}
	return fmt.Errorf("watch error")
}

// lastWebAppChange is when the benchmark last saw a WebApp created,
// changed (spec or status) or deleted, in Unix nanoseconds.
var lastWebAppChange atomic.Int64
