package monitoring

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Series of the manager.
const (
	// MetricWebAppCondition is 1 per WebApp and condition type, labelled
	// with the condition's status and reason (kube-state-metrics style).
	MetricWebAppCondition = "pylon_webapp_condition"
	// MetricReconciles counts WebApp reconciles by result and reason.
	MetricReconciles = "pylon_webapp_reconciles_total"
	// MetricHostnameClaims counts hostnames by state: held (a
	// HostnameClaim exists) or conflicting (a WebApp wants a hostname that
	// another WebApp holds or another namespace serves).
	MetricHostnameClaims = "pylon_hostname_claims"
	// MetricChildReads counts children read in full from the API server
	// because their cached copy (kept without its spec) could not show
	// them current: the first look after a start, and every change Pylon
	// did not just write, its own or another writer's.
	MetricChildReads = "pylon_child_reads_total"
	// MetricChildApplies counts server-side applies sent for children of
	// WebApps: creates, changes of the spec, and reverted drift.
	MetricChildApplies = "pylon_child_applies_total"
)

// Results of MetricReconciles.
const (
	ResultSuccess = "success"
	ResultError   = "error"
)

// Reasons of MetricReconciles for a reconcile that ended before computing
// a status; otherwise the reason is that of the WebApp's Ready condition.
const (
	ReasonExposureFailed   = "ExposureFailed"
	ReasonCanaryPlanFailed = "CanaryPlanFailed"
)

// Metrics are the manager's series. The zero value and nil record nothing.
type Metrics struct {
	reconciles   *prometheus.CounterVec
	childReads   *prometheus.CounterVec
	childApplies *prometheus.CounterVec
}

// Register registers the manager's series with reg, reading WebApps and
// HostnameClaims from reader (the manager's cache) at scrape time. The
// state series are reported only once elected is closed (nil: at once):
// only the leader reports them, so replicas do not report the same WebApp
// twice.
func Register(reg prometheus.Registerer, reader client.Reader, elected <-chan struct{}) (*Metrics, error) {
	m := &Metrics{reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricReconciles,
		Help: "WebApp reconciles by result (success or error) and reason: the reason of the Ready condition the reconcile computed, " +
			"or ExposureFailed or CanaryPlanFailed when it stopped before.",
	}, []string{"result", "reason"}), childReads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricChildReads,
		Help: "Children of WebApps read in full from the API server, by kind, because their cached copy could not show them current " +
			"(the first look after a start, or a change of a field Pylon applies).",
	}, []string{"kind"}), childApplies: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricChildApplies,
		Help: "Server-side applies sent for children of WebApps, by kind: creates, spec changes and reverted drift. Flat on a quiet cluster.",
	}, []string{"kind"})}
	for _, c := range []prometheus.Collector{m.reconciles, m.childReads, m.childApplies} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if err := reg.Register(newStateCollector(reader, elected)); err != nil {
		return nil, err
	}
	return m, nil
}

// ChildRead counts one child of kind read in full.
func (m *Metrics) ChildRead(kind string) {
	if m == nil {
		return
	}
	m.childReads.WithLabelValues(kind).Inc()
}

// ChildApplied counts one apply of a child of kind.
func (m *Metrics) ChildApplied(kind string) {
	if m == nil {
		return
	}
	m.childApplies.WithLabelValues(kind).Inc()
}

// Reconciled counts one reconcile.
func (m *Metrics) Reconciled(err error, reason string) {
	if m == nil {
		return
	}
	result := ResultSuccess
	if err != nil {
		result = ResultError
	}
	m.reconciles.WithLabelValues(result, reason).Inc()
}

// stateCollector reports the state of WebApps and claims as the cache
// holds it when Prometheus scrapes.
type stateCollector struct {
	reader    client.Reader
	elected   <-chan struct{}
	condition *prometheus.Desc
	claims    *prometheus.Desc
}

func newStateCollector(reader client.Reader, elected <-chan struct{}) *stateCollector {
	return &stateCollector{
		reader: reader, elected: elected,
		condition: prometheus.NewDesc(MetricWebAppCondition,
			"1 for each condition of each WebApp (namespace, name), with its type (condition), status (True, False, Unknown) and reason.",
			[]string{"namespace", "name", "condition", "status", "reason"}, nil),
		claims: prometheus.NewDesc(MetricHostnameClaims,
			"Hostnames by state: held (a HostnameClaim names its WebApp) or conflicting (WebApps whose HostnameClaimed condition is False "+
				"with reason HostnameConflict: another WebApp holds the hostname or another namespace serves it).",
			[]string{"state"}, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.condition
	ch <- c.claims
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.elected != nil {
		select {
		case <-c.elected:
		default:
			return // a standby replica: the leader reports
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log := logf.Log.WithName("metrics")
	var apps pylonv1alpha1.WebAppList
	if err := c.reader.List(ctx, &apps); err != nil {
		// A scrape without these series is better than stale ones, and an
		// invalid metric would fail the whole scrape (controller-runtime
		// answers 500), losing the reconcile counters the alerts read too.
		log.Error(err, "list WebApps for metrics")
		return
	}
	conflicting := 0
	for i := range apps.Items {
		app := &apps.Items[i]
		for _, cond := range app.Status.Conditions {
			ch <- prometheus.MustNewConstMetric(c.condition, prometheus.GaugeValue, 1,
				app.Namespace, app.Name, cond.Type, string(cond.Status), cond.Reason)
			if cond.Type == pylonv1alpha1.ConditionHostnameClaimed && cond.Status == "False" && cond.Reason == pylonv1alpha1.ReasonHostnameConflict {
				conflicting++
			}
		}
	}
	var held pylonv1alpha1.HostnameClaimList
	if err := c.reader.List(ctx, &held); err != nil {
		log.Error(err, "list HostnameClaims for metrics")
		return
	}
	ch <- prometheus.MustNewConstMetric(c.claims, prometheus.GaugeValue, float64(len(held.Items)), "held")
	ch <- prometheus.MustNewConstMetric(c.claims, prometheus.GaugeValue, float64(conflicting), "conflicting")
}

// Names are the names of every series of this package, for the tests that
// check the alerting rules and the dashboard use only series that exist.
func Names() []string {
	return []string{MetricWebAppCondition, MetricReconciles, MetricHostnameClaims}
}
