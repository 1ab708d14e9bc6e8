package leaderelection

import (
	"flag"
	"strings"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

func TestDefaultsAreValidAndApplied(t *testing.T) {
	var tm Timings
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	tm.BindFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := tm.Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	// The worst case of a 20 s etcd outage: kube-apiserver's etcd client
	// redials with gRPC's backoff (1 s, ×1.6, ±20 % jitter), and its first
	// attempt after the outage may come 31.6 s after it began.
	var redial, delay time.Duration = 0, time.Second
	for redial < 20*time.Second {
		redial += delay * 12 / 10
		delay = delay * 16 / 10
	}
	if tm.RenewDeadline <= redial {
		t.Fatalf("renew deadline %s does not outlast kube-apiserver's worst redial after a 20 s etcd outage (%s)", tm.RenewDeadline, redial)
	}
	var o ctrl.Options
	tm.Apply(&o)
	if *o.LeaseDuration != DefaultLeaseDuration || *o.RenewDeadline != DefaultRenewDeadline || *o.RetryPeriod != DefaultRetryPeriod {
		t.Fatalf("applied %s/%s/%s", *o.LeaseDuration, *o.RenewDeadline, *o.RetryPeriod)
	}
}

func TestFlagsOverrideAndValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // substring of the error; empty: valid
	}{
		{[]string{"--leader-elect-lease-duration=15s", "--leader-elect-renew-deadline=10s", "--leader-elect-retry-period=2s"}, ""},
		{[]string{"--leader-elect-lease-duration=10s", "--leader-elect-renew-deadline=10s"}, "--leader-elect-lease-duration (10s) must be longer"},
		{[]string{"--leader-elect-renew-deadline=5s", "--leader-elect-retry-period=5s"}, "--leader-elect-renew-deadline (5s) must be longer than 1.2"},
		{[]string{"--leader-elect-retry-period=0s"}, "--leader-elect-retry-period must be positive"},
	} {
		var tm Timings
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		tm.BindFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := tm.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: refused: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
