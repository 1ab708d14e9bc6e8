package controller_test

import (
	"context"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/monitoring"
)

// series returns the samples of the family name in the manager's registry,
// each as its label map and value.
func series(g Gomega, name string) []map[string]string {
	families, err := managerMetrics.Gather()
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var out []map[string]string
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{"": value(m)}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out = append(out, l)
		}
	}
	return out
}

// value is a sample's value as text, under the label name "".
func value(m *dto.Metric) string {
	switch {
	case m.GetGauge() != nil:
		return fmtFloat(m.GetGauge().GetValue())
	case m.GetCounter() != nil:
		return fmtFloat(m.GetCounter().GetValue())
	}
	return "?"
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// conditionSeries are the pylon_webapp_condition series of one WebApp, by
// condition type: status/reason.
func conditionSeries(g Gomega, ns, name string) map[string]string {
	out := map[string]string{}
	for _, l := range series(g, monitoring.MetricWebAppCondition) {
		if l["namespace"] == ns && l["name"] == name {
			g.ExpectWithOffset(1, l[""]).To(Equal("1"))
			out[l["condition"]] = l["status"] + "/" + l["reason"]
		}
	}
	return out
}

// TestManagerMetrics: the condition series say what each WebApp's status
// says, the claim counts match the HostnameClaims and conflicting WebApps
// in the cluster, reconciles are counted with Ready's reason, and a
// deleted WebApp leaves no series.
func TestManagerMetrics(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	class, _ := gatewayClass(t, nil)
	nsA, nsB := newNamespace(t), newNamespace(t)
	host := "metrics." + nsA + ".example.com"
	spec := func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = host
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
	}
	holder := newWebApp(t, nsA, "shop", spec)
	g.Eventually(func(g Gomega) {
		get(g, holder)
		expectCondition(g, holder, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
	}, timeout, poll).Should(Succeed())
	waiter := newWebApp(t, nsB, "shop", spec)
	g.Eventually(func(g Gomega) {
		get(g, waiter)
		expectCondition(g, waiter, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
	}, timeout, poll).Should(Succeed())

	// Every condition of both WebApps, as the API server has them.
	for _, app := range []*pylonv1alpha1.WebApp{holder, waiter} {
		g.Eventually(func(g Gomega) {
			get(g, app)
			want := map[string]string{}
			for _, c := range app.Status.Conditions {
				want[c.Type] = string(c.Status) + "/" + c.Reason
			}
			g.Expect(want).To(HaveKey(pylonv1alpha1.ConditionReady))
			g.Expect(conditionSeries(g, app.Namespace, app.Name)).To(Equal(want))
		}, timeout, poll).Should(Succeed(), "%s/%s", app.Namespace, app.Name)
	}
	g.Expect(conditionSeries(g, nsB, "shop")).To(HaveKeyWithValue(pylonv1alpha1.ConditionHostnameClaimed, "False/"+pylonv1alpha1.ReasonHostnameConflict))

	// Claims: what the cluster holds, counted by the test independently.
	g.Eventually(func(g Gomega) {
		var claims pylonv1alpha1.HostnameClaimList
		g.Expect(k8s.List(ctx, &claims)).To(Succeed())
		var apps pylonv1alpha1.WebAppList
		g.Expect(k8s.List(ctx, &apps)).To(Succeed())
		conflicting := 0
		for _, a := range apps.Items {
			if c := condition(&a, pylonv1alpha1.ConditionHostnameClaimed); c != nil && c.Status == metav1.ConditionFalse && c.Reason == pylonv1alpha1.ReasonHostnameConflict {
				conflicting++
			}
		}
		g.Expect(conflicting).To(BeNumerically(">=", 1))
		got := map[string]string{}
		for _, l := range series(g, monitoring.MetricHostnameClaims) {
			got[l["state"]] = l[""]
		}
		g.Expect(got).To(Equal(map[string]string{"held": fmtFloat(float64(len(claims.Items))), "conflicting": fmtFloat(float64(conflicting))}))
	}, timeout, poll).Should(Succeed())

	// Reconciles are counted under the reason of the Ready condition they computed.
	get(g, holder)
	ready := condition(holder, pylonv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil())
	var counted bool
	for _, l := range series(g, monitoring.MetricReconciles) {
		counted = counted || (l["result"] == monitoring.ResultSuccess && l["reason"] == ready.Reason && l[""] != "0")
	}
	g.Expect(counted).To(BeTrue(), "no successful reconcile counted with reason %s: %v", ready.Reason, series(g, monitoring.MetricReconciles))

	// A deleted WebApp (no finalizers: gone at once) leaves no series.
	g.Expect(k8s.Delete(ctx, waiter)).To(Succeed())
	g.Eventually(func(g Gomega) map[string]string { return conditionSeries(g, nsB, "shop") }, timeout, poll).Should(BeEmpty())
	g.Expect(conditionSeries(g, nsA, "shop")).NotTo(BeEmpty())
}
