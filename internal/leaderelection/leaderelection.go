// Package leaderelection holds the lease timings both binaries elect their
// leader with, as flags, and Elected, which the gateway runs its status
// writer under.
//
// The defaults are longer than client-go's (15 s / 10 s / 2 s) on purpose: a
// manager leader that cannot renew its lease within the renew deadline stops
// (the process exits and is restarted; a gateway only stops writing status). The renew deadline runs from a retry
// period after the last renewal, so in the worst case (the outage begins as
// that window opens) it is how long after an outage begins the API must
// write again. After an etcd outage that is longer than the outage itself:
// kube-apiserver's etcd client redials with gRPC's backoff (1 s, ×1.6 per
// attempt, ±20 % jitter), so after 20 s down its next attempt comes 21 to
// 32 s after the outage began; test/e2e's TestEtcdOutage measured the first
// write 4–6 s after etcd was healthy again. A 30 s renew deadline therefore
// loses the lease in the unlucky tail of a 20 s outage; 45 s leaves 13 s
// beyond the worst redial. The lease duration must exceed the renew deadline
// (60 s): a leader that dies without releasing its lease (SIGKILL, a lost
// node) is replaced within the lease duration plus one retry period. A
// graceful stop releases the lease at once (LeaderElectionReleaseOnCancel),
// so rollouts hand over without waiting.
package leaderelection

import (
	"errors"
	"flag"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Defaults; see the package documentation.
const (
	DefaultLeaseDuration = 60 * time.Second
	DefaultRenewDeadline = 45 * time.Second
	DefaultRetryPeriod   = 5 * time.Second
)

// Timings are the lease timings of one binary, and where its lease lives.
type Timings struct {
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Namespace holds the Lease; empty: the Pod's own namespace.
	Namespace string
}

// BindFlags registers --leader-elect-lease-duration, --leader-elect-renew-deadline,
// --leader-elect-retry-period and --leader-elect-namespace on fs, with the
// defaults above.
func (t *Timings) BindFlags(fs *flag.FlagSet) {
	fs.DurationVar(&t.LeaseDuration, "leader-elect-lease-duration", DefaultLeaseDuration,
		"How long a lease is valid: other replicas take over this long after the leader last renewed it (a leader that stops gracefully releases it at once).")
	fs.DurationVar(&t.RenewDeadline, "leader-elect-renew-deadline", DefaultRenewDeadline,
		"How long the leader keeps trying to renew before it gives up leading and exits: the longest API server or etcd outage survived without a restart.")
	fs.DurationVar(&t.RetryPeriod, "leader-elect-retry-period", DefaultRetryPeriod,
		"How often replicas try to acquire or renew the lease.")
	fs.StringVar(&t.Namespace, "leader-elect-namespace", "",
		"Namespace of the Lease; empty: the Pod's own (required when running outside a cluster).")
}

// Validate refuses timings client-go's elector would refuse at start, with a
// message that names the flags.
func (t Timings) Validate() error {
	var errs []error
	if t.RetryPeriod <= 0 {
		errs = append(errs, errors.New("--leader-elect-retry-period must be positive"))
	}
	if t.RenewDeadline <= time.Duration(1.2*float64(t.RetryPeriod)) {
		errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%s) must be longer than 1.2 × --leader-elect-retry-period (%s)", t.RenewDeadline, t.RetryPeriod))
	}
	if t.LeaseDuration <= t.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%s) must be longer than --leader-elect-renew-deadline (%s)", t.LeaseDuration, t.RenewDeadline))
	}
	return errors.Join(errs...)
}

// Apply sets the timings on manager options.
func (t Timings) Apply(o *ctrl.Options) {
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &t.LeaseDuration, &t.RenewDeadline, &t.RetryPeriod
	if t.Namespace != "" {
		o.LeaderElectionNamespace = t.Namespace
	}
}
