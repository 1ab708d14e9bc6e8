package echo

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Environment variables that make a backend misbehave. They win over the
// image tag's knobs (see ParseImageFaults), one knob at a time.
const (
	// EnvFailPercent: the percentage (0 to 100) of requests answered 500.
	EnvFailPercent = "ECHO_FAIL_PERCENT"
	// EnvNeverReady: "true" keeps the Pod not Ready forever (the simulated
	// node reads it; the handler itself serves as usual).
	EnvNeverReady = "ECHO_NEVER_READY"
	// EnvDelay: a Go duration every request waits before it is answered.
	EnvDelay = "ECHO_DELAY"
)

// Image tag knobs. A WebApp has one env list for its stable and canary
// Pods, so the image, which differs, is the only way to make just the
// canary misbehave. The tag holds knobs joined by '_' (the one tag
// character a duration never contains): fail-30, never-ready, slow-50ms,
// fail-30_slow-50ms. Parts that are no knob (1.2.0, v2) are ignored.
const (
	tagFailPrefix = "fail-"
	tagSlowPrefix = "slow-"
	tagNeverReady = "never-ready"
	tagSeparator  = "_"
)

// Faults are the ways a backend misbehaves on purpose, so end-to-end tests
// can see canary analysis roll back a bad canary. Requests from the
// simulated node's readiness probe are never affected (see IsProbe):
// readiness is NeverReady's business alone.
type Faults struct {
	// FailPercent of requests, spread evenly, are answered 500. Each
	// handler counts its own requests: a Pod serving two ports spreads
	// the failures of each port separately.
	FailPercent int
	// Delay is added before every answer, bounded like ?delay=.
	Delay time.Duration
	// NeverReady: the Pod is never marked Ready.
	NeverReady bool
}

// FaultsFor returns the faults of a container running image with env:
// the image tag's knobs, overridden by the environment variables that are
// set. An invalid knob is an error rather than ignored, so a typo cannot
// make a test of a bad canary pass with a good one.
func FaultsFor(image string, env map[string]string) (Faults, error) {
	f, err := ParseImageFaults(image)
	if err != nil {
		return Faults{}, err
	}
	var errs []error
	if v, ok := env[EnvFailPercent]; ok {
		if f.FailPercent, err = parsePercent(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvFailPercent, v, err))
		}
	}
	if v, ok := env[EnvDelay]; ok {
		if f.Delay, err = parseDelay(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvDelay, v, err))
		}
	}
	if v, ok := env[EnvNeverReady]; ok {
		if f.NeverReady, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", EnvNeverReady, v))
		}
	}
	if len(errs) > 0 {
		return Faults{}, errors.Join(errs...)
	}
	return f, nil
}

// ParseImageFaults reads the knobs in an image's tag, e.g.
// example.test/echo:fail-30_slow-50ms. An image without a tag, or whose
// tag holds no knob, has no faults.
func ParseImageFaults(image string) (Faults, error) {
	var f Faults
	for part := range strings.SplitSeq(imageTag(image), tagSeparator) {
		var err error
		switch {
		case part == tagNeverReady:
			f.NeverReady = true
		case strings.HasPrefix(part, tagFailPrefix):
			f.FailPercent, err = parsePercent(strings.TrimPrefix(part, tagFailPrefix))
		case strings.HasPrefix(part, tagSlowPrefix):
			f.Delay, err = parseDelay(strings.TrimPrefix(part, tagSlowPrefix))
		}
		if err != nil {
			return Faults{}, fmt.Errorf("image %s: tag knob %q: %w", image, part, err)
		}
	}
	return f, nil
}

// imageTag is the tag of an image reference: what follows the last ':'
// of the last path element, before any digest ("" without a tag, so a
// registry's port is never read as one).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, _ := strings.Cut(last, ":")
	return tag
}

func parsePercent(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100 {
		return 0, errors.New("want a whole percentage from 0 to 100")
	}
	return n, nil
}

func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a non-negative Go duration such as 50ms")
	}
	return min(d, maxDelay), nil
}

// ProbeUserAgent is the User-Agent of the simulated node's readiness
// probes. Like the kubelet's "kube-probe/<version>", its prefix tells the
// handler a probe from traffic, so faults never touch readiness.
const ProbeUserAgent = probeUserAgentPrefix + "simulated-node"

const probeUserAgentPrefix = "kube-probe/"

// IsProbe reports whether r is a readiness probe, the simulated node's or
// a kubelet's.
func IsProbe(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("User-Agent"), probeUserAgentPrefix)
}

// failer picks the requests that fail: request n (counting from 1) fails
// when n*percent/100 reaches a new whole number, so exactly percent of
// every 100 consecutive requests fail, evenly spread (10: the 10th, 20th,
// ...; 30: the 4th, 7th, 10th, ...). Deterministic, unlike a random draw,
// so a test can assert an exact count.
type failer struct {
	percent uint64
	count   atomic.Uint64
}

func newFailer(percent int) *failer {
	return &failer{percent: uint64(min(max(percent, 0), 100))}
}

// fail counts one request and reports whether it must fail.
func (f *failer) fail() bool {
	if f.percent == 0 {
		return false
	}
	n := f.count.Add(1)
	return n*f.percent/100 != (n-1)*f.percent/100
}
