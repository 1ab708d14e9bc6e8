package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/test/localcluster"
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

const attackerImage = "registry.example.com/evil:6.6"

// tenant is a second team: a ServiceAccount of its own namespace bound to
// the built-in "edit" ClusterRole, acting with a real ServiceAccount token.
type tenant struct {
	ns     string
	client client.Client
}

// newTenant creates namespace prefix-*, a ServiceAccount bound to "edit"
// there, and a client authenticated by a token of that ServiceAccount.
// The platform lets namespace editors use HTTPRoutes and ListenerSets (a
// ClusterRole aggregated into "edit"), as on the cluster of the report.
func newTenant(t *testing.T, prefix string) tenant {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, prefix)
	if err := env.Client.Create(ctx, localcluster.RouteEditorRole()); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}}
	g.Expect(env.Client.Create(ctx, sa)).To(Succeed())
	g.Expect(env.Client.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa.Name}},
	})).To(Succeed())
	tok, err := env.Clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	cfg := rest.CopyConfig(env.Admin)
	cfg.TLSClientConfig = rest.TLSClientConfig{CAData: env.Admin.CAData}
	cfg.BearerToken = tok.Status.Token
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	// Not an administrator: a cluster-scoped write is refused.
	err = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-x"}})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "tenant may not create namespaces: %v", err)
	return tenant{ns: ns, client: c}
}

// create creates obj as the tenant, waiting for the aggregated "edit" role
// to include its kind.
func (tn tenant) create(t *testing.T, obj client.Object) {
	t.Helper()
	obj.SetNamespace(tn.ns)
	NewWithT(t).Eventually(func() error {
		return tn.client.Create(context.Background(), obj)
	}).WithTimeout(30*time.Second).WithPolling(250*time.Millisecond).Should(Succeed(), "%T %s", obj, obj.GetName())
}

// backend deploys the tenant's own echo Pods (attackerImage) and Service
// "evil", as a tenant with "edit" may.
func (tn tenant) backend(t *testing.T) {
	t.Helper()
	labels := map[string]string{"app.kubernetes.io/name": "evil"}
	tn.create(t, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "evil"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: restrictedPod(corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: attackerImage, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				}}}),
			},
		},
	})
	tn.create(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "evil"},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	})
}

func sharedGateway() gwv1.ParentReference {
	return gwv1.ParentReference{Name: "pylon", Namespace: ptr.To(gwv1.Namespace(localcluster.SystemNamespace))}
}

// plainRoute is an HTTPRoute to the tenant's Service for hostnames (none:
// whatever the parent gives), matching Exact / and PathPrefix /admin.
func plainRoute(name string, parent gwv1.ParentReference, hostnames ...string) *gwv1.HTTPRoute {
	hr := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{parent}},
			Rules: []gwv1.HTTPRouteRule{{
				Matches: []gwv1.HTTPRouteMatch{
					{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To("/")}},
					{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/admin")}},
				},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
					Name: "evil", Port: ptr.To[gwv1.PortNumber](80),
				}}}},
			}},
		},
	}
	for _, h := range hostnames {
		hr.Spec.Hostnames = append(hr.Spec.Hostnames, gwv1.Hostname(h))
	}
	return hr
}

// routeParentCondition waits for the bundled gateway's condition typ on
// the route's first parent at its generation, and returns it.
func routeParentCondition(t *testing.T, c client.Client, ns, name, typ string) metav1.Condition {
	t.Helper()
	var out metav1.Condition
	NewWithT(t).Eventually(func(g Gomega) {
		hr := &gwv1.HTTPRoute{}
		g.Expect(c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, hr)).To(Succeed())
		g.Expect(hr.Status.Parents).NotTo(BeEmpty())
		cond := meta.FindStatusCondition(hr.Status.Parents[0].Conditions, typ)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.ObservedGeneration).To(Equal(hr.Generation))
		out = *cond
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	return out
}

// answers is every answer seen on a set of URLs under constant load.
type answers struct {
	mu     sync.Mutex
	seen   map[string]int // "namespace image status" → count
	errors int
	stop   chan struct{}
	done   chan struct{}
}

// watchAnswers requests each URL in turn until stopped.
func watchAnswers(urls ...string) *answers {
	a := &answers{seen: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	c := gatewayClient()
	go func() {
		defer close(a.done)
		for i := 0; ; i++ {
			select {
			case <-a.stop:
				return
			default:
			}
			r, err := do(c, http.MethodGet, urls[i%len(urls)], nil)
			a.mu.Lock()
			if err != nil {
				a.errors++
			} else {
				a.seen[fmt.Sprintf("%s %s %d", r.Echo.Namespace, r.Echo.Image, r.Status)]++
			}
			a.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return a
}

func (a *answers) finish() (map[string]int, int) {
	close(a.stop)
	<-a.done
	return a.seen, a.errors
}

// A second tenant with the built-in edit role tries every way the bundled
// gateway offers to take a WebApp's hostname, or paths of it: a plain
// HTTPRoute (Exact / and PathPrefix /admin), an Ingress of class pylon, a
// ListenerSet listener for the hostname, a wildcard route over its parent
// domain, and a WebApp of its own for the hostname. Each fails: the victim
// answers every request (told apart by namespace and image), stays Ready
// and Routed, and each attacking object's status names the victim's
// namespace. The attacker's own
// hostname works throughout, so the refusals are not an outage.
func TestTenantCannotTakeOverHostname(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	suffix := fmt.Sprintf("own%d.e2e.test", rand.IntN(1_000_000))
	host := "shop." + suffix
	victimNS := newNamespace(t, "victim")
	victim, url := servingApp(t, victimNS, "shop", host, nil)

	attacker := newTenant(t, "attacker")
	attacker.backend(t)
	own := "evil." + attacker.ns + ".e2e.test"
	attacker.create(t, plainRoute("own", sharedGateway(), own))
	waitServing(t, "http://"+own+"/", attacker.ns)

	// Constant load on the victim's paths from before the first attack.
	urls := []string{url, "http://" + host + "/admin", "http://" + host + "/admin/users", "http://" + host + "/shop"}
	load := watchAnswers(urls...)

	// 1. A plain HTTPRoute with the victim's hostname.
	attacker.create(t, plainRoute("takeover", sharedGateway(), host))
	acc := routeParentCondition(t, attacker.client, attacker.ns, "takeover", string(gwv1.RouteConditionAccepted))
	// The gateway has judged the route (status follows the published
	// table): who answers now?
	c := gatewayClient()
	for _, u := range urls {
		r, err := do(c, http.MethodGet, u, nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect([]string{r.Echo.Namespace, r.Echo.Image}).To(Equal([]string{victimNS, stableImage}), "GET %s answered by the attacker", u)
	}
	g.Expect(acc.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(acc.Reason).To(Equal(contract.ReasonHostnameOwnedByAnotherNamespace))
	g.Expect(acc.Message).To(ContainSubstring(victimNS))

	// 2. An Ingress of class pylon for the victim's hostname.
	prefix := networkingv1.PathTypePrefix
	attacker.create(t, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "takeover"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("pylon"),
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/admin", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "evil", Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}}}},
		},
	})
	g.Eventually(func(g Gomega) {
		evs := &eventsv1.EventList{}
		g.Expect(env.Client.List(ctx, evs, client.InNamespace(attacker.ns))).To(Succeed())
		var notes []string
		for _, e := range evs.Items {
			if e.Regarding.Kind == "Ingress" && e.Regarding.Name == "takeover" && e.Reason == contract.ReasonHostnameOwnedByAnotherNamespace {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring(victimNS)))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	ing := &networkingv1.Ingress{}
	g.Expect(attacker.client.Get(ctx, client.ObjectKey{Namespace: attacker.ns, Name: "takeover"}, ing)).To(Succeed())
	g.Expect(ing.Status.LoadBalancer.Ingress).To(BeEmpty(), "an Ingress that is not served gets no address")

	// 3. A ListenerSet listener for the victim's hostname, and a route on it.
	attacker.create(t, &gwv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Name: "takeover"},
		Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{Name: "pylon", Namespace: ptr.To(gwv1.Namespace(localcluster.SystemNamespace))},
			Listeners: []gwv1.ListenerEntry{{Name: "victim", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To(gwv1.Hostname(host))}},
		},
	})
	attacker.create(t, plainRoute("via-listenerset", gwv1.ParentReference{Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: "takeover"}))
	g.Eventually(func(g Gomega) {
		ls := &gwv1.ListenerSet{}
		g.Expect(attacker.client.Get(ctx, client.ObjectKey{Namespace: attacker.ns, Name: "takeover"}, ls)).To(Succeed())
		g.Expect(ls.Status.Listeners).To(HaveLen(1))
		c := meta.FindStatusCondition(ls.Status.Listeners[0].Conditions, string(gwv1.ListenerConditionConflicted))
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(string(gwv1.ListenerReasonHostnameConflict)))
		g.Expect(c.Message).To(ContainSubstring(victimNS))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
	acc = routeParentCondition(t, attacker.client, attacker.ns, "via-listenerset", string(gwv1.RouteConditionAccepted))
	g.Expect(acc.Status).To(Equal(metav1.ConditionFalse), acc.Message)

	// 4. A wildcard over the victim's parent domain: it gets the hosts
	// nobody owns, never the victim's.
	attacker.create(t, plainRoute("wildcard", sharedGateway(), "*."+suffix))
	served := routeParentCondition(t, attacker.client, attacker.ns, "wildcard", contract.ConditionServed)
	g.Expect(served.Status).To(Equal(metav1.ConditionTrue), served.Message)
	r := waitServing(t, "http://other."+suffix+"/admin", attacker.ns)
	g.Expect(r.Echo.Image).To(Equal(attackerImage), "the wildcard works for hosts nobody owns")

	// 5. A WebApp of the attacker's for the victim's hostname, written with
	// "edit" as any namespace editor may (Pylon's roles are aggregated
	// into it, as an install aggregates them): its claim is refused.
	mine := newWebApp(attacker.ns, "takeover", host)
	mine.Spec.Image = attackerImage
	attacker.create(t, mine)
	refused := waitCondition(t, mine, "HostnameClaimed", metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
	g.Expect(condition(refused, "HostnameClaimed").Message).To(ContainSubstring(victimNS))

	// Let the load run over the settled table too.
	time.Sleep(3 * time.Second)
	seen, errs := load.finish()
	t.Logf("answers on the victim's hostname during the attacks: %v (transport errors %d)", seen, errs)
	g.Expect(errs).To(BeZero())
	want := fmt.Sprintf("%s %s %d", victimNS, stableImage, http.StatusOK)
	g.Expect(seen).To(HaveLen(1), "every answer must come from the victim")
	g.Expect(seen[want]).To(BeNumerically(">", 50))

	cur := waitCondition(t, victim, "Ready", metav1.ConditionTrue, "")
	g.Expect(condition(cur, "Routed").Status).To(Equal(metav1.ConditionTrue))
	for _, u := range urls {
		r := waitServing(t, u, victimNS)
		g.Expect(r.Echo.Image).To(Equal(stableImage))
	}
}

// The reverse: a hostname a tenant already serves with a plain HTTPRoute
// cannot be taken by a WebApp of another namespace; the WebApp says who
// serves it, and the tenant keeps its traffic.
func TestWebAppCannotTakeHostnameServedByPlainRoute(t *testing.T) {
	g := NewWithT(t)
	owner := newTenant(t, "plain-owner")
	owner.backend(t)
	host := fmt.Sprintf("plain%d.e2e.test", rand.IntN(1_000_000))
	owner.create(t, plainRoute("site", sharedGateway(), host))
	waitServing(t, "http://"+host+"/", owner.ns)

	ns := newNamespace(t, "late")
	app := newWebApp(ns, "site", host)
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	cur := waitCondition(t, app, "HostnameClaimed", metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
	g.Expect(condition(cur, "HostnameClaimed").Message).To(ContainSubstring(owner.ns))
	g.Expect(condition(cur, "Ready").Status).NotTo(Equal(metav1.ConditionTrue))
	for range 20 {
		r := waitServing(t, "http://"+host+"/", owner.ns)
		g.Expect(r.Echo.Image).To(Equal(attackerImage))
	}
}
