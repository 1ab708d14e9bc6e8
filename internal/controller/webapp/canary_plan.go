package webapp

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// observeEvery is how often status.canary.observed of a canary without
// analysis is refreshed, and observeWindow how far back it looks.
const (
	observeEvery  = 15 * time.Second
	observeWindow = time.Minute
)

// planCanary observes what decides the canary (its Deployments, the
// traffic figures) and decides its effective weight.
func (r *Reconciler) planCanary(ctx context.Context, app *pylonv1alpha1.WebApp, view exposureView) (canaryDecision, error) {
	if app.Spec.Canary == nil && app.Status.Canary == nil {
		r.forgetTraffic(app)
		return canaryDecision{}, nil
	}
	f := canaryFacts{unsupported: view.canaryUnsupported, now: r.now(), drain: r.CanaryDrain}
	if f.drain == 0 {
		f.drain = defaultCanaryDrain
	}
	var err error
	if f.stable, err = r.ownedDeployment(ctx, app, names.Deployment(app)); err != nil {
		return canaryDecision{}, err
	}
	if f.canary, err = r.ownedDeployment(ctx, app, names.Canary(app)); err != nil {
		return canaryDecision{}, err
	}
	if canaryWanted(app) && availablePods(f.canary) > 0 {
		if f.canaryEndpoints, err = r.readyEndpoints(ctx, app.Namespace, names.Canary(app)); err != nil {
			return canaryDecision{}, err
		}
	}
	src, problem := r.metricsSource(view)
	keys := []string{app.Namespace + "/" + names.Service(app), app.Namespace + "/" + names.Canary(app)}
	analysed := canaryWanted(app) && app.Spec.Canary.Analysis != nil
	if analysed {
		f.analysis = analysisFacts{sourceProblem: problem, stable: keys[0], canary: keys[1]}
		if src != nil {
			f.analysis.source = src.Name()
			if anchor := analysisAnchor(app); !anchor.IsZero() {
				w, err := r.Traffic.Window(ctx, src, app.UID, app.Namespace, keys, anchor, true)
				if err != nil {
					f.analysis.readErr = err
				} else {
					f.analysis.window, f.analysis.anchor = &w, anchor
				}
			}
		}
	}
	d := decideCanary(app, f)
	switch {
	case d.status == nil:
		r.forgetTraffic(app)
	case analysed && src != nil && !d.anchor.IsZero():
		// Take the reading a new step is judged from now, not a poll later.
		if _, err := r.Traffic.Window(ctx, src, app.UID, app.Namespace, keys, d.anchor, true); err != nil {
			d.requeue = analysisPoll
		}
	case !analysed && src != nil:
		// Without analysis the figures are only reported: the last minute.
		w, err := r.Traffic.Window(ctx, src, app.UID, app.Namespace, keys, f.now.Add(-observeWindow), false)
		if err == nil && w.End.After(w.Start) {
			d.status.Observed = observedTraffic(src.Name(), w, w.Backends[keys[0]], w.Backends[keys[1]])
		} else if app.Status.Canary != nil {
			d.status.Observed = app.Status.Canary.Observed
		}
		d.requeue = observeEvery
	}
	return d, nil
}

// ownedDeployment reads Deployment name from the cache; nil when it does
// not exist or is not the WebApp's.
func (r *Reconciler) ownedDeployment(ctx context.Context, app *pylonv1alpha1.WebApp, name string) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: name}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if !metav1.IsControlledBy(d, app) {
		return nil, nil
	}
	return d, nil
}

// readyEndpoints counts the ready endpoint addresses the EndpointSlices of
// Service name list, as a gateway reads them (a nil ready condition means
// ready). The manager caches only the EndpointSlices of Pylon's Services
// (see controller.CacheOptions): the EndpointSlice controller copies the
// Service's labels onto them.
func (r *Reconciler) readyEndpoints(ctx context.Context, namespace, name string) (int, error) {
	list := &discoveryv1.EndpointSliceList{}
	if err := r.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return 0, fmt.Errorf("list the EndpointSlices of Service %s/%s: %w", namespace, name, err)
	}
	n := 0
	for _, s := range list.Items {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n += len(e.Addresses)
			}
		}
	}
	return n, nil
}

// metricsSource is where the traffic of the WebApp's class is read, or nil
// and why there is none.
func (r *Reconciler) metricsSource(view exposureView) (traffic.Source, string) {
	class := view.exp.Class
	if class == nil || view.exp.Hostname == "" {
		return nil, "the WebApp is not routed through an ExposureClass"
	}
	m := class.Spec.Metrics
	if m == nil {
		m = &pylonv1alpha1.ExposureClassMetrics{}
	}
	source := m.Source
	if source == "" {
		switch {
		case view.controller == contract.GatewayControllerName || view.controller == contract.IngressControllerName:
			source = pylonv1alpha1.MetricsPylonGateway
		case m.Prometheus != nil:
			source = pylonv1alpha1.MetricsPrometheus
		default:
			return nil, fmt.Sprintf("ExposureClass %s routes through %q, whose traffic Pylon cannot read: set its spec.metrics.prometheus", class.Name, view.controller)
		}
	}
	switch source {
	case pylonv1alpha1.MetricsPylonGateway:
		if r.GatewayMetrics == nil {
			return nil, "the manager was started without --gateway-metrics-service or --gateway-metrics-url, so it cannot read the gateway's counters"
		}
		return r.GatewayMetrics, ""
	case pylonv1alpha1.MetricsPrometheus:
		if m.Prometheus == nil {
			return nil, fmt.Sprintf("ExposureClass %s sets metrics.source Prometheus without metrics.prometheus.url", class.Name)
		}
		return r.prometheus.get(m.Prometheus.URL), ""
	default:
		return nil, fmt.Sprintf("ExposureClass %s sets metrics.source None", class.Name)
	}
}

func (r *Reconciler) forgetTraffic(app *pylonv1alpha1.WebApp) {
	if r.Traffic != nil {
		r.Traffic.Forget(app.UID)
	}
}

// prometheusSources shares one source per Prometheus URL.
type prometheusSources struct {
	mu    sync.Mutex
	byURL map[string]*traffic.PrometheusSource
}

func (p *prometheusSources) get(url string) *traffic.PrometheusSource {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byURL == nil {
		p.byURL = map[string]*traffic.PrometheusSource{}
	}
	s := p.byURL[url]
	if s == nil {
		s = &traffic.PrometheusSource{URL: url}
		p.byURL[url] = s
	}
	return s
}

// recordCanaryTransitions emits an event when the canary's effective weight
// or analysis phase changed: rollbacks as warnings, the rest as normal.
func (r *Reconciler) recordCanaryTransitions(app *pylonv1alpha1.WebApp, prev, next *pylonv1alpha1.CanaryStatus) {
	if next == nil {
		return
	}
	switch {
	case next.Phase == pylonv1alpha1.CanaryRolledBack && (prev == nil || prev.Phase != pylonv1alpha1.CanaryRolledBack || prev.Revision != next.Revision):
		r.event(app, corev1.EventTypeWarning, pylonv1alpha1.ReasonRolledBack, "Analyse", "canary %s", next.WeightMessage)
		return
	case next.Phase == pylonv1alpha1.CanarySucceeded && (prev == nil || prev.Phase != pylonv1alpha1.CanarySucceeded):
		r.event(app, corev1.EventTypeNormal, "CanarySucceeded", "Analyse", "%s", next.WeightMessage)
		return
	}
	if prev == nil || prev.Weight != next.Weight {
		from := int32(0)
		if prev != nil {
			from = prev.Weight
		}
		r.event(app, corev1.EventTypeNormal, "CanaryWeight", "Route", "canary weight %d%% → %d%%: %s", from, next.Weight, next.WeightMessage)
	}
}
