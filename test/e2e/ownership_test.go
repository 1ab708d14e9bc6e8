package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Two namespaces claim one hostname: the first keeps it and serves, the
// second waits with HostnameConflict, then takes over when the first goes.
func TestHostnameConflictThenTakeover(t *testing.T) {
	g := NewWithT(t)
	const host = "contested.e2e.test"
	url := "http://" + host + "/"
	nsA, nsB := newNamespace(t, "owner-a"), newNamespace(t, "owner-b")
	first := newWebApp(nsA, "site", host)
	g.Expect(env.Client.Create(context.Background(), first)).To(Succeed())
	waitCondition(t, first, "Ready", metav1.ConditionTrue, "")
	waitServing(t, url, nsA)

	second := newWebApp(nsB, "site", host)
	g.Expect(env.Client.Create(context.Background(), second)).To(Succeed())
	cur := waitCondition(t, second, "HostnameClaimed", metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
	g.Expect(condition(cur, "HostnameClaimed").Message).To(ContainSubstring(nsA))
	// The holder keeps serving while the other waits.
	waitServing(t, url, nsA)
	g.Expect(split(g, url, 50, nil)).To(HaveLen(1))

	start := time.Now()
	g.Expect(env.Client.Delete(context.Background(), first)).To(Succeed())
	waitCondition(t, second, "HostnameClaimed", metav1.ConditionTrue, "")
	waitCondition(t, second, "Ready", metav1.ConditionTrue, "")
	waitServing(t, url, nsB)
	t.Logf("took over in %s", time.Since(start).Round(time.Millisecond))
}
