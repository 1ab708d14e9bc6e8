package leaderelection

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/pylon-dev/pylon/test/testenv"
)

// runs records which Elected is running its leader's work.
type runs struct {
	mu      sync.Mutex
	active  map[string]int // running now, by name
	started map[string]int // runs started, by name
	overlap bool           // two ran at once
}

func (r *runs) work(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		r.mu.Lock()
		r.active[name]++
		r.started[name]++
		total := 0
		for _, n := range r.active {
			total += n
		}
		r.overlap = r.overlap || total > 1
		r.mu.Unlock()
		<-ctx.Done()
		r.mu.Lock()
		r.active[name]--
		r.mu.Unlock()
		return nil
	}
}

func (r *runs) snapshot() (active, started map[string]int, overlap bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	active, started = map[string]int{}, map[string]int{}
	for k, v := range r.active {
		active[k] = v
	}
	for k, v := range r.started {
		started[k] = v
	}
	return active, started, r.overlap
}

// Against a real kube-apiserver: one of two replicas does the work; a
// replica that loses its lease (another holder took it) stops the work and
// campaigns again instead of returning; a replica that stops releases the
// lease and the other takes over; never two at once.
func TestElectedCampaignsAgainAfterALostLease(t *testing.T) {
	g := NewWithT(t)
	env, err := testenv.Start(testenv.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	cs := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "le"}}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())

	// A long lease: a takeover within seconds after a stop proves the
	// Lease was released, not left to expire.
	tm := Timings{LeaseDuration: 30 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 250 * time.Millisecond, Namespace: "le"}
	r := &runs{active: map[string]int{}, started: map[string]int{}}
	start := func(name string) (*Elected, context.CancelFunc, chan error) {
		e := &Elected{Config: env.Config, Name: "work", Timings: tm, Run: r.work(name)}
		c, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.Start(c) }()
		return e, cancel, done
	}
	a, stopA, doneA := start("a")
	g.Eventually(a.Leading).WithTimeout(30 * time.Second).Should(BeTrue())
	b, stopB, doneB := start("b")
	defer stopB()
	g.Consistently(b.Leading).WithTimeout(time.Second).Should(BeFalse(), "the standby leads while the leader renews")

	// Someone else takes the Lease (as a replica that believed it expired
	// would): the leader's renewal fails, it stops its work, and neither
	// process exits.
	// The leader renews every RetryPeriod, so the intruder's update may
	// meet a newer version: it reads and tries again, as a client would.
	leases := cs.CoordinationV1().Leases("le")
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := leases.Get(ctx, "work", metav1.GetOptions{})
		if err != nil {
			return err
		}
		l.Spec.HolderIdentity = ptr.To("intruder")
		l.Spec.LeaseDurationSeconds = ptr.To[int32](2)
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func() int { act, _, _ := r.snapshot(); return act["a"] + act["b"] }).WithTimeout(30*time.Second).Should(Equal(0), "work went on under a lost lease")

	// The intruder never renews: after its lease runs out one of the two
	// leads again; Start has not returned in either.
	g.Eventually(func() bool { return a.Leading() || b.Leading() }).WithTimeout(30 * time.Second).Should(BeTrue())
	g.Expect(doneA).NotTo(Receive(), "a returned after losing its lease")
	g.Expect(doneB).NotTo(Receive(), "b returned")

	// The leader stops: once its work has stopped it releases the Lease,
	// and the other leads at once (well within the 30 s lease).
	leader, stopLeader, doneLeader, other := a, stopA, doneA, b
	if b.Leading() {
		leader, stopLeader, doneLeader, other = b, stopB, doneB, a
	}
	stopLeader()
	g.Eventually(doneLeader).WithTimeout(10 * time.Second).Should(Receive(BeNil()))
	g.Expect(leader.Leading()).To(BeFalse())
	l, err := leases.Get(ctx, "work", metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(other.Leading).WithTimeout(10 * time.Second).Should(BeTrue())

	_, started, overlap := r.snapshot()
	g.Expect(overlap).To(BeFalse(), "two replicas worked at once")
	g.Expect(started["a"] + started["b"]).To(BeNumerically(">=", 3))
	t.Logf("runs started: %v; lease after the leader stopped: %v", started, ptr.Deref(l.Spec.HolderIdentity, ""))
}
