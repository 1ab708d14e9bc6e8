package localcluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/net/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/test/echo"
)

// On a real control plane: a Pod whose image says never-ready serves but
// stays not Ready, while a Pod failing half its requests is Ready, because
// its probes are spared, and fails exactly every second request.
func TestNodeFaultKnobs(t *testing.T) {
	c := startCluster(t)
	g := NewWithT(t)
	ctx := context.Background()

	pod := func(name, image string, env ...corev1.EnvVar) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: image, Env: env,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)},
				}},
			}}},
		}
	}
	failing := pod("failing", "example.test/echo:1.0", corev1.EnvVar{Name: echo.EnvFailPercent, Value: "50"})
	never := pod("never", "example.test/echo:never-ready")
	g.Expect(c.Client.Create(ctx, failing)).To(Succeed())
	g.Expect(c.Client.Create(ctx, never)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(failing), failing)).To(Succeed())
		g.Expect(isReady(failing)).To(BeTrue(), "probes are spared the failures")
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	get := func(ip string) int {
		resp, err := http.Get("http://" + net.JoinHostPort(ip, "8080") + "/")
		g.Expect(err).NotTo(HaveOccurred())
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	g.Expect([]int{get(failing.Status.PodIP), get(failing.Status.PodIP)}).To(Equal([]int{http.StatusOK, http.StatusInternalServerError}))

	// The never-ready Pod runs and serves, and stays not Ready with the
	// node's reason.
	notReady := func(g Gomega) {
		g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(never), never)).To(Succeed())
		g.Expect(never.Status.Phase).To(Equal(corev1.PodRunning))
		g.Expect(isReady(never)).To(BeFalse())
		g.Expect(readyCondition(never).Reason).To(Equal(ReasonNeverReady))
	}
	g.Eventually(notReady).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	g.Consistently(notReady).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	g.Expect(get(never.Status.PodIP)).To(Equal(http.StatusOK), "a never-ready Pod still serves")
}

// On a real control plane: a deleted Pod keeps serving new connections
// through its preStop sleep, then stops accepting while the requests in
// flight finish, is killed when the grace period ends, and only then is
// the object removed. A Pod without a preStop sleep stops accepting at
// once, and its object goes as soon as its last request has finished,
// well before its grace period would end.
func TestNodeHonoursTermination(t *testing.T) {
	c := startCluster(t)
	g := NewWithT(t)
	ctx := context.Background()

	const sleep = 2 * time.Second
	pod := func(name string, preStop int64, grace int64) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name},
			Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: &grace,
				Containers: []corev1.Container{{
					Name: "app", Image: "example.test/echo:1.0",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}},
			},
		}
		if preStop > 0 {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: preStop}}}
		}
		g.Expect(c.Client.Create(ctx, p)).To(Succeed())
		g.Eventually(func(g Gomega) {
			g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
			g.Expect(isReady(p)).To(BeTrue())
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		return p
	}
	graceful := pod("graceful", int64(sleep/time.Second), 8)
	abrupt := pod("abrupt", 0, 30)

	// Each request on a connection of its own, as a new client would.
	get := func(ip, query string) (int, error) {
		cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := cl.Get("http://" + net.JoinHostPort(ip, "8080") + "/" + query)
		if err != nil {
			return 0, err
		}
		defer func() { _ = resp.Body.Close() }()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return 0, err
		}
		return resp.StatusCode, nil
	}
	type result struct {
		status int
		err    error
	}
	inFlight := func(ip, delay string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			s, err := get(ip, "?delay="+delay)
			ch <- result{s, err}
		}()
		return ch
	}
	// Requests in flight at the deletion: one that ends within the grace
	// period, one that would outlive it. Give them time to be accepted.
	finishes := inFlight(graceful.Status.PodIP, "4s")
	outlives := inFlight(graceful.Status.PodIP, "25s")
	abruptInFlight := inFlight(abrupt.Status.PodIP, "2s")
	// Long-lived exchanges: they last through the preStop sleep, and the
	// app ends them cleanly on SIGTERM.
	type ended struct {
		at  time.Time
		err error
	}
	events := make(chan ended, 1)
	go func() {
		resp, err := http.Get("http://" + net.JoinHostPort(graceful.Status.PodIP, "8080") + "/sse?interval=50ms")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		events <- ended{time.Now(), err}
	}()
	frames := make(chan ended, 1)
	ws, err := websocket.Dial("ws://"+net.JoinHostPort(graceful.Status.PodIP, "8080")+"/ws", "", "http://test/")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = ws.Close() }()
	go func() {
		var msg string
		err := websocket.Message.Receive(ws, &msg)
		frames <- ended{time.Now(), err}
	}()
	time.Sleep(300 * time.Millisecond)

	deleted := time.Now()
	g.Expect(c.Client.Delete(ctx, graceful)).To(Succeed())
	g.Expect(c.Client.Delete(ctx, abrupt)).To(Succeed())

	// The graceful Pod answers every new connection until it first
	// refuses one, and that is not before its sleep has passed.
	var refused time.Time
	for refused.IsZero() {
		status, err := get(graceful.Status.PodIP, "")
		switch {
		case err != nil:
			refused = time.Now()
		case status != http.StatusOK:
			t.Fatalf("a terminating Pod answered %d", status)
		default:
			time.Sleep(100 * time.Millisecond)
		}
		g.Expect(time.Since(deleted)).To(BeNumerically("<", 20*time.Second), "the Pod never stopped serving")
	}
	g.Expect(refused.Sub(deleted)).To(BeNumerically(">=", sleep), "the Pod stopped serving %s after its deletion, within its preStop sleep", refused.Sub(deleted))
	t.Logf("graceful Pod served new connections for %s after its deletion", refused.Sub(deleted).Round(time.Millisecond))
	// Stopped, but not gone: the request in flight holds it until it
	// finishes or the grace period ends.
	cur := &corev1.Pod{}
	g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(graceful), cur)).To(Succeed(), "the Pod object was removed while a request was in flight")
	g.Expect(cur.DeletionTimestamp).NotTo(BeNil())

	// On SIGTERM, the event stream ended after a whole event and the
	// WebSocket with a close frame (io.EOF to x/net/websocket), neither
	// before the preStop sleep was over.
	for what, ch := range map[string]chan ended{"event stream": events, "WebSocket": frames} {
		var e ended
		g.Eventually(ch).WithTimeout(10*time.Second).Should(Receive(&e), "the %s ends on SIGTERM", what)
		g.Expect(e.err).To(Or(BeNil(), MatchError(io.EOF)), "the %s ends cleanly", what)
		g.Expect(e.at.Sub(deleted)).To(BeNumerically(">=", sleep), "the %s lasts through the preStop sleep", what)
	}

	r := <-finishes
	g.Expect(r.err).NotTo(HaveOccurred(), "a request in flight at SIGTERM must finish")
	g.Expect(r.status).To(Equal(http.StatusOK))
	r = <-outlives
	g.Expect(r.err).To(HaveOccurred(), "a request outliving the grace period is cut when the Pod is killed")
	g.Eventually(func() bool {
		return apierrors.IsNotFound(c.Client.Get(ctx, client.ObjectKeyFromObject(graceful), &corev1.Pod{}))
	}).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(), "the Pod object is removed once it was killed")

	// The Pod without a preStop sleep refused new connections at once,
	// finished its request in flight, and was removed long before its 30 s
	// grace period ended.
	_, err = get(abrupt.Status.PodIP, "")
	g.Expect(err).To(HaveOccurred(), "a Pod without a preStop sleep stops accepting at SIGTERM")
	r = <-abruptInFlight
	g.Expect(r.err).NotTo(HaveOccurred())
	g.Expect(r.status).To(Equal(http.StatusOK))
	g.Eventually(func() bool {
		return apierrors.IsNotFound(c.Client.Get(ctx, client.ObjectKeyFromObject(abrupt), &corev1.Pod{}))
	}).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(BeTrue())
}
