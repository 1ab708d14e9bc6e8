package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/leaderelection"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// The local cluster runs both binaries with the default lease timings. A
// leader killed without releasing its Lease is replaced once the standby has
// seen the Lease unchanged for the lease duration. The standby looks every
// retry period plus client-go's jitter (up to 2.2 × the retry period, 11 s
// with the defaults), and the clock starts at its first look after the
// leader's last renewal, not at the kill: that look can come up to 11 s
// after the renewal (which was at most a retry period before the kill), and
// the look that finds the Lease expired up to 11 s after the expiry. So
// kill → takeover ≤ lease duration + 2 × 2.2 × retry period (82 s with the
// defaults; one run saw 71.9 s, above a bound that counted the jitter once),
// plus 2 s for the acquiring write on a loaded API server.
const takeoverBound = leaderelection.DefaultLeaseDuration + 44*leaderelection.DefaultRetryPeriod/10 + 2*time.Second

// inFlightAtKill is how long after a SIGKILL the API server may still
// receive a request the killed process had already sent (most likely the
// bytes sat in the socket until kube-apiserver's handler ran and stamped
// requestReceivedTimestamp; one CI run on the loaded 2-core machine saw a
// server-side apply stamped after the kill). A process
// cannot send anything once killed, so such requests are in flight, not
// late; they are counted and printed. A write received later than this
// would mean something of the killed leader survived (a forked child, the
// wrong process killed), and fails the test; the successor cannot write
// before the Lease expires, at least a lease duration minus a retry period
// after the kill.
const inFlightAtKill = 2 * time.Second

// afterKill sorts a write by the killed process received at at: in flight
// at the kill (within inFlightAtKill of it), or late.
func afterKill(at, kill time.Time, e localcluster.AuditEvent, inFlight, late *[]string) {
	switch {
	case !at.After(kill):
	case at.Sub(kill) <= inFlightAtKill:
		*inFlight = append(*inFlight, fmt.Sprintf("%s (%d ms after the kill)", describe(e), at.Sub(kill).Milliseconds()))
	default:
		*late = append(*late, describe(e))
	}
}

const (
	failoverApps    = 50
	failoverChanges = 200 // failoverApps creates, then three rounds of updates
)

// Two manager replicas elect a leader. During a burst of 200 WebApp changes
// the leader is killed (SIGKILL, so it cannot release its Lease): the
// standby takes over, every change converges, no child is created twice,
// and the API server's audit log shows the writes of one manager at a time.
func TestManagerFailover(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	managers := env.Pylon.Managers
	g.Expect(managers).To(HaveLen(2))
	g.Expect(env.Pylon.RestoreManagerLeader(ctx)).To(Succeed())
	ns := newNamespace(t, "failover")
	t.Cleanup(func() {
		if err := env.Pylon.RestoreManagerLeader(ctx); err != nil {
			t.Errorf("restore manager leader: %v", err)
		}
	})
	testStart := time.Now()

	holder := leaseHolder(g, localcluster.ManagerLease)
	leader := processOfIdentity(g, localcluster.ManagerLease, holder)
	g.Expect(leader).To(Equal(managers[0].Name), "replica 0 leads after RestoreManagerLeader")

	// The burst: 50 creates, then each WebApp changes three times (new
	// hostname; a new env var, which rolls its Pods; another hostname).
	apps := make([]*pylonv1alpha1.WebApp, failoverApps)
	for i := range apps {
		apps[i] = newWebApp(ns, fmt.Sprintf("app-%02d", i), fmt.Sprintf("app-%02d-r0.failover.e2e.test", i))
	}
	changes := make(chan int, failoverChanges)
	burstErr := make(chan error, 1)
	go func() {
		defer close(changes)
		burstErr <- burst(ctx, apps, changes)
	}()
	for n := range changes {
		if n == failoverChanges/2 {
			break
		}
	}
	uidsBefore := childUIDs(g, ns)

	killed := managers[0]
	kill := time.Now()
	g.Expect(killed.Kill()).To(Succeed())
	t.Logf("leader %s (%s) killed after %d of %d changes, %s into the burst", killed.Name, holder, failoverChanges/2, failoverChanges, kill.Sub(testStart).Round(time.Millisecond))

	var newHolder string
	NewWithT(t).Eventually(func(g Gomega) {
		newHolder = leaseHolder(g, localcluster.ManagerLease)
		g.Expect(newHolder).NotTo(Equal(holder))
	}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
	leaseSeen := time.Since(kill)
	for range changes { // drain: the burst goes on until all 200 are sent
	}
	g.Expect(<-burstErr).To(Succeed())

	// Every change converges: status at the last generation, Ready, and
	// the children carry the last spec.
	NewWithT(t).Eventually(func(g Gomega) {
		for i, app := range apps {
			cur := getApp(g, app)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation), cur.Name)
			ready := meta.FindStatusCondition(cur.Status.Conditions, "Ready")
			g.Expect(ready).NotTo(BeNil(), cur.Name)
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s: %s %s", cur.Name, ready.Reason, ready.Message)
			d := &appsv1.Deployment{}
			g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: cur.Name}, d)).To(Succeed())
			g.Expect(d.Spec.Template.Spec.Containers[0].Env).To(ContainElement(corev1.EnvVar{Name: "ROUND", Value: "2"}), cur.Name)
			r := &gwv1.HTTPRoute{}
			g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: cur.Name}, r)).To(Succeed())
			g.Expect(r.Spec.Hostnames).To(Equal([]gwv1.Hostname{gwv1.Hostname(fmt.Sprintf("app-%02d-r3.failover.e2e.test", i))}), cur.Name)
		}
	}).WithTimeout(5 * time.Minute).WithPolling(time.Second).Should(Succeed())
	converged := time.Since(kill)

	// No child was replaced: those that existed at the kill keep their UID.
	uidsAfter := childUIDs(g, ns)
	for k, uid := range uidsBefore {
		g.Expect(uidsAfter).To(HaveKeyWithValue(k, uid), "child %s was recreated", k)
	}

	// The audit log: who held the Lease when, and who wrote what.
	events, err := env.ReadAuditLog()
	g.Expect(err).NotTo(HaveOccurred())
	successor := processOfIdentity(g, localcluster.ManagerLease, newHolder)
	g.Expect(successor).NotTo(Equal(killed.Name))
	acquired := leaseAcquired(events, localcluster.ManagerLease, newHolder)
	g.Expect(acquired.IsZero()).To(BeFalse())

	writes := map[string]int{} // per process, in this test
	creates := map[string]int{}
	var firstWrite time.Time
	var standbyEarly, killedInFlight, killedLate []string
	for _, e := range events {
		p := e.Process()
		if !strings.HasPrefix(p, "manager") || !e.Succeeded() || e.ObjectRef.Resource == "leases" {
			continue
		}
		at := e.RequestReceivedTimestamp
		if at.Before(testStart) {
			continue
		}
		switch {
		case p == successor && at.Before(acquired):
			standbyEarly = append(standbyEarly, describe(e))
		case p == killed.Name:
			afterKill(at, kill, e, &killedInFlight, &killedLate)
		}
		writes[p]++
		if p == successor && e.ObjectRef.Resource != "events" && (firstWrite.IsZero() || at.Before(firstWrite)) {
			firstWrite = at
		}
		// 201 Created: a create, or a server-side apply (a patch) that
		// created the object.
		if e.ResponseStatus.Code == http.StatusCreated && e.ObjectRef.Resource != "events" && (e.ObjectRef.Namespace == ns || e.ObjectRef.Namespace == "") {
			creates[e.ObjectRef.APIGroup+"/"+e.ObjectRef.Resource+"/"+e.ObjectRef.Namespace+"/"+e.ObjectRef.Name]++
		}
	}
	var duplicates []string
	perResource := map[string]int{}
	for k, n := range creates {
		perResource[strings.Split(k, "/")[1]]++
		if n > 1 {
			duplicates = append(duplicates, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	sort.Strings(duplicates)

	t.Logf("takeover: lease held by %s (%s) %.1f s after the kill (the test saw it at %.1f s), first reconcile write %.1f s after the kill; all %d changes converged %.1f s after the kill",
		successor, newHolder, acquired.Sub(kill).Seconds(), leaseSeen.Seconds(), firstWrite.Sub(kill).Seconds(), failoverChanges, converged.Seconds())
	t.Logf("writes in this test per replica (audit log, Leases excluded): %v; objects created: %d %v; duplicates found: %d; children recreated: 0 of %d",
		writes, len(creates), perResource, len(duplicates), len(uidsBefore))
	t.Logf("writes of the killed leader in flight at the kill (received within %s of it): %d %v", inFlightAtKill, len(killedInFlight), killedInFlight)
	g.Expect(len(creates)).To(BeNumerically(">=", 3*failoverApps), "the audit log shows a Deployment, Service and HTTPRoute created per WebApp")
	g.Expect(standbyEarly).To(BeEmpty(), "writes by the standby before it held the Lease")
	g.Expect(killedLate).To(BeEmpty(), "writes by the killed leader after the kill")
	g.Expect(duplicates).To(BeEmpty(), "children created more than once")
	g.Expect(firstWrite.After(acquired)).To(BeTrue())
	g.Expect(acquired.Sub(kill)).To(BeNumerically("<=", takeoverBound), "takeover slower than the lease duration plus the standby's retry")
	g.Expect(writes[successor]).To(BeNumerically(">", 0))
	// The successor says so itself, too.
	i := slices.IndexFunc(managers, func(p *localcluster.Process) bool { return p.Name == successor })
	g.Expect(localcluster.ManagerLeads(ctx, i)).To(BeTrue(), "%s does not report leading", successor)

	// The killed replica comes back as the standby; replica 0 leads again
	// (Cleanup), as the other tests expect.
	g.Expect(killed.Start()).To(Succeed())
}

// burst sends failoverChanges WebApp changes, reporting each one's ordinal
// on changes.
func burst(ctx context.Context, apps []*pylonv1alpha1.WebApp, changes chan<- int) error {
	n := 0
	for _, app := range apps {
		if err := env.Client.Create(ctx, app.DeepCopy()); err != nil {
			return fmt.Errorf("create %s: %w", app.Name, err)
		}
		n++
		changes <- n
		time.Sleep(20 * time.Millisecond)
	}
	for round := 1; round <= 3; round++ {
		for i, app := range apps {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				cur := &pylonv1alpha1.WebApp{}
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), cur); err != nil {
					return err
				}
				switch round {
				case 2:
					cur.Spec.Env = append(cur.Spec.Env, corev1.EnvVar{Name: "ROUND", Value: "2"})
				default:
					cur.Spec.Hostname = fmt.Sprintf("app-%02d-r%d.failover.e2e.test", i, round)
				}
				return env.Client.Update(ctx, cur)
			})
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round, app.Name, err)
			}
			n++
			changes <- n
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n != failoverChanges {
		return fmt.Errorf("sent %d changes, want %d", n, failoverChanges)
	}
	return nil
}

// childUIDs maps every Deployment, Service and HTTPRoute in ns to its UID.
func childUIDs(g Gomega, ns string) map[string]types.UID {
	out := map[string]types.UID{}
	ds := &appsv1.DeploymentList{}
	g.Expect(env.Client.List(context.Background(), ds, client.InNamespace(ns))).To(Succeed())
	for _, o := range ds.Items {
		out["Deployment/"+o.Name] = o.UID
	}
	ss := &corev1.ServiceList{}
	g.Expect(env.Client.List(context.Background(), ss, client.InNamespace(ns))).To(Succeed())
	for _, o := range ss.Items {
		out["Service/"+o.Name] = o.UID
	}
	rs := &gwv1.HTTPRouteList{}
	g.Expect(env.Client.List(context.Background(), rs, client.InNamespace(ns))).To(Succeed())
	for _, o := range rs.Items {
		out["HTTPRoute/"+o.Name] = o.UID
	}
	return out
}

func leaseHolder(g Gomega, name string) string {
	l := &coordinationv1.Lease{}
	g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: localcluster.SystemNamespace, Name: name}, l)).To(Succeed())
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

// processOfIdentity maps a Lease holderIdentity to the harness process
// that wrote it: the audit log records the Lease writes at Request level,
// and each process's credentials carry a group naming it.
func processOfIdentity(g Gomega, lease, identity string) string {
	var procs []string
	g.Eventually(func(g Gomega) {
		events, err := env.ReadAuditLog()
		g.Expect(err).NotTo(HaveOccurred())
		procs = nil
		for _, e := range events {
			if e.ObjectRef.Resource == "leases" && e.ObjectRef.Name == lease && e.Succeeded() && e.RequestObject != nil &&
				e.RequestObject.Spec.HolderIdentity == identity && !slices.Contains(procs, e.Process()) {
				procs = append(procs, e.Process())
			}
		}
		g.Expect(procs).NotTo(BeEmpty(), "no Lease write with holder %s in the audit log", identity)
	}).WithTimeout(10 * time.Second).Should(Succeed())
	g.Expect(procs).To(HaveLen(1), "identity %s written by %v", identity, procs)
	return procs[0]
}

// leaseAcquired is when identity first wrote lease as its holder.
func leaseAcquired(events []localcluster.AuditEvent, lease, identity string) time.Time {
	for _, e := range events {
		if e.ObjectRef.Resource == "leases" && e.ObjectRef.Name == lease && e.Succeeded() && e.RequestObject != nil &&
			e.RequestObject.Spec.HolderIdentity == identity {
			return e.StageTimestamp
		}
	}
	return time.Time{}
}

func describe(e localcluster.AuditEvent) string {
	return fmt.Sprintf("%s %s %s/%s/%s/%s at %s", e.Process(), e.Verb, e.ObjectRef.APIGroup, e.ObjectRef.Resource, e.ObjectRef.Namespace, e.ObjectRef.Name, e.RequestReceivedTimestamp.Format(time.RFC3339Nano))
}

// Two gateway processes elect the status writer. The leader is killed
// (SIGKILL) and a route changes: the other process writes its status within
// the lease duration, and the audit log shows one writer at a time.
func TestGatewayStatusWriterFailover(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "gwfailover")
	testStart := time.Now()

	// The local cluster runs two gateway replicas on one address; one of
	// them holds the status-writer Lease.
	holder := leaseHolder(g, localcluster.GatewayLease)
	holderProc := processOfIdentity(g, localcluster.GatewayLease, holder)
	var first, second *localcluster.Process
	firstAdmin := ""
	for i, p := range env.Pylon.Gateways {
		g.Expect(p.Running()).To(BeTrue(), p.Name)
		if p.Name == holderProc {
			first, firstAdmin = p, localcluster.GatewayAdminAddress(i)
		} else if second == nil {
			second = p
		}
	}
	g.Expect(first).NotTo(BeNil(), "the Lease holder %s (%s) is none of the gateway replicas", holder, holderProc)
	g.Expect(second).NotTo(BeNil(), "no second gateway replica")

	// A route the leader accepted, pointing at a Service that does not
	// exist yet.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "present"}, Spec: corev1.ServiceSpec{
		Ports: []corev1.ServicePort{{Name: "http", Port: 80}}, Selector: map[string]string{"app": "none"},
	}}
	g.Expect(env.Client.Create(ctx, svc)).To(Succeed())
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "writer"}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{
			Name: "pylon", Namespace: ptr.To(gwv1.Namespace(localcluster.SystemNamespace)),
		}}},
		Hostnames: []gwv1.Hostname{"writer.failover.e2e.test"},
		Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
			BackendObjectReference: gwv1.BackendObjectReference{Name: "absent", Port: ptr.To(gwv1.PortNumber(80))},
		}}}}},
	}}
	g.Expect(env.Client.Create(ctx, route)).To(Succeed())
	waitRouteResolved(t, route, metav1.ConditionFalse, time.Minute)

	kill := time.Now()
	g.Expect(first.Kill()).To(Succeed())
	t.Logf("status writer %s (%s) killed", first.Name, holder)
	NewWithT(t).Eventually(func() error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &gwv1.HTTPRoute{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(route), cur); err != nil {
				return err
			}
			cur.Spec.Rules[0].BackendRefs[0].Name = "present"
			return env.Client.Update(ctx, cur)
		})
	}).WithTimeout(30 * time.Second).Should(Succeed())
	waitRouteResolved(t, route, metav1.ConditionTrue, 2*time.Minute)
	statusAfter := time.Since(kill)

	newHolder := leaseHolder(g, localcluster.GatewayLease)
	g.Expect(newHolder).NotTo(Equal(holder))
	g.Expect(processOfIdentity(g, localcluster.GatewayLease, newHolder)).To(Equal(second.Name))
	events, err := env.ReadAuditLog()
	g.Expect(err).NotTo(HaveOccurred())
	acquired := leaseAcquired(events, localcluster.GatewayLease, newHolder)
	g.Expect(acquired.IsZero()).To(BeFalse())

	writes := map[string]int{}
	var early, inFlight, late []string
	var routeWriters []string
	for _, e := range events {
		p, at := e.Process(), e.RequestReceivedTimestamp
		if !strings.HasPrefix(p, "gateway") || !e.Succeeded() || e.ObjectRef.Resource == "leases" || at.Before(testStart) {
			continue
		}
		writes[p]++
		switch {
		case p == second.Name && at.Before(acquired):
			early = append(early, describe(e))
		case p == first.Name:
			afterKill(at, kill, e, &inFlight, &late)
		}
		if e.ObjectRef.Resource == "httproutes" && e.ObjectRef.Namespace == ns && at.Sub(kill) > inFlightAtKill && !slices.Contains(routeWriters, p) {
			routeWriters = append(routeWriters, p)
		}
	}
	t.Logf("status-writer takeover: lease held by %s %.1f s after the kill; the changed route's status written %.1f s after the kill; writes in this test per process (Leases excluded): %v",
		second.Name, acquired.Sub(kill).Seconds(), statusAfter.Seconds(), writes)
	t.Logf("writes of the killed status writer in flight at the kill (received within %s of it): %d %v", inFlightAtKill, len(inFlight), inFlight)
	g.Expect(early).To(BeEmpty(), "writes by the standby gateway before it held the Lease")
	g.Expect(late).To(BeEmpty(), "writes by the killed gateway after the kill")
	g.Expect(routeWriters).To(Equal([]string{second.Name}))
	g.Expect(acquired.Sub(kill)).To(BeNumerically("<=", takeoverBound))

	// The killed gateway comes back as the standby (it serves traffic
	// like the other replica).
	g.Expect(first.Start()).To(Succeed())
	waitAdminReady(t, "http://"+firstAdmin+"/readyz")
}

// waitRouteResolved waits until the route's status for the pylon Gateway,
// at its current generation, has ResolvedRefs = want.
func waitRouteResolved(t *testing.T, route *gwv1.HTTPRoute, want metav1.ConditionStatus, timeout time.Duration) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		cur := &gwv1.HTTPRoute{}
		g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(route), cur)).To(Succeed())
		g.Expect(cur.Status.Parents).NotTo(BeEmpty())
		c := meta.FindStatusCondition(cur.Status.Parents[0].Conditions, string(gwv1.RouteConditionResolvedRefs))
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(c.Status).To(Equal(want), c.Message)
	}).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Succeed())
}

func waitAdminReady(t *testing.T, url string) {
	t.Helper()
	NewWithT(t).Eventually(func() (int, error) {
		resp, err := http.Get(url) //nolint:noctx // loopback admin endpoint
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Equal(http.StatusOK))
}
