package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// inClusterNamespace is where a Pod's namespace is mounted.
const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Elected runs Run only while this process holds the Lease Name, and
// campaigns again when it loses it, instead of exiting as a
// controller-runtime manager does. It is for work that one replica does
// for all (the gateway's status writes) inside a process whose main job
// every replica does (serving traffic): an API server or etcd outage
// longer than the renew deadline then stops the writes, never the data
// plane. It is a controller-runtime Runnable that needs no election of its
// own.
type Elected struct {
	Config  *rest.Config
	Name    string
	Timings Timings
	// Run does the leader's work until ctx ends (leadership lost or the
	// process stopping). Elected waits for it to return before it
	// campaigns again, so two runs never overlap.
	Run    func(ctx context.Context) error
	Logger *slog.Logger

	leading atomic.Bool
	// runMu makes runs strictly sequential: client-go starts the leader's
	// callback in a goroutine that may still be starting when leadership
	// is already lost again.
	runMu sync.Mutex
}

// NeedLeaderElection is false: Elected does its own.
func (e *Elected) NeedLeaderElection() bool { return false }

// Leading reports whether this process holds the Lease now.
func (e *Elected) Leading() bool { return e.leading.Load() }

// Start campaigns until ctx ends, releasing the Lease when it does.
func (e *Elected) Start(ctx context.Context) error {
	ns := e.Timings.Namespace
	if ns == "" {
		b, err := os.ReadFile(inClusterNamespace)
		if err != nil {
			return fmt.Errorf("leader election: no --leader-elect-namespace and not in a Pod: %w", err)
		}
		ns = strings.TrimSpace(string(b))
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	id := host + "_" + uuid.NewString()
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(e.Config))
	if err != nil {
		return err
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, ns, e.Name, cs.CoreV1(), cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	log := e.Logger
	if log == nil {
		log = slog.Default()
	}
	for ctx.Err() == nil {
		var led atomic.Bool // this campaign won the Lease
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			// Not ReleaseOnCancel: client-go would release the Lease
			// before the leader's work has stopped; Start releases it
			// after (below).
			Lock: lock, Name: e.Name,
			LeaseDuration: e.Timings.LeaseDuration, RenewDeadline: e.Timings.RenewDeadline, RetryPeriod: e.Timings.RetryPeriod,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					e.runMu.Lock()
					defer e.runMu.Unlock()
					if lctx.Err() != nil {
						return
					}
					led.Store(true)
					e.leading.Store(true)
					log.Info("leading", "lease", ns+"/"+e.Name, "identity", id)
					if err := e.Run(lctx); err != nil && !errors.Is(err, context.Canceled) {
						log.Error("the leader's work failed; it runs again when this process leads again", "error", err)
					}
				},
				OnStoppedLeading: func() { e.leading.Store(false) },
			},
		})
		if err != nil {
			return err
		}
		le.Run(ctx) // returns once leadership is lost or ctx ends
		// Wait for the leader's work to stop before campaigning again, or
		// before handing the Lease over.
		e.runMu.Lock()
		e.leading.Store(false)
		e.runMu.Unlock()
		if ctx.Err() != nil && led.Load() {
			release(lock, id, log)
		}
		if ctx.Err() == nil {
			log.Warn("lost the lease; serving on and campaigning again", "lease", ns+"/"+e.Name)
		}
	}
	return nil
}

// release gives the Lease up if this process still holds it, so that a
// standby takes over at once instead of after the lease duration, as
// client-go's ReleaseOnCancel does, but only once the work has stopped.
func release(lock resourcelock.Interface, id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, _, err := lock.Get(ctx)
	if err != nil || rec.HolderIdentity != id {
		return
	}
	now := metav1.NewTime(time.Now())
	if err := lock.Update(ctx, resourcelock.LeaderElectionRecord{
		LeaderTransitions: rec.LeaderTransitions, LeaseDurationSeconds: 1, RenewTime: now, AcquireTime: now,
	}); err != nil {
		log.Warn("could not release the lease; a standby takes over when it expires", "error", err)
	}
}
