package traffic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// GatewaySource reads the bundled gateway's counters from every replica's
// admin endpoint: the fixed URLs it is given and the ready endpoints of the
// gateway's metrics Service. One reading serves every WebApp for CacheFor,
// so a thousand canaries cost one scrape per replica, not a thousand.
type GatewaySource struct {
	// URLs are /metrics URLs scraped as they are (a gateway outside the
	// cluster, or the local cluster's gateway process).
	URLs []string
	// Service is the gateway's metrics Service ("namespace/name") whose
	// EndpointSlices list the replicas; Port is the port name on it.
	Service string
	Port    string
	// Reader lists EndpointSlices (read past the cache: only the gateway's
	// are wanted, and only while canaries are measured).
	Reader client.Reader
	// Client scrapes; nil: a client with a 3 s timeout.
	Client *http.Client
	// CacheFor is how long a reading is reused (default 2 s).
	CacheFor time.Duration
	// Clock; nil means time.Now.
	Clock func() time.Time

	mu   sync.Mutex
	last *Reading
}

// Name identifies the source in status.
func (g *GatewaySource) Name() string { return "pylon-gateway" }

// Read returns the counters of every backend Service, per replica. A
// replica that cannot be scraped is left out (its counters will look reset
// when it is back, which the window treats as counting from zero); no
// replica at all is an error.
func (g *GatewaySource) Read(ctx context.Context, _ string) (Reading, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	cacheFor := g.CacheFor
	if cacheFor == 0 {
		cacheFor = 2 * time.Second
	}
	if g.last != nil && now.Sub(g.last.At) < cacheFor {
		return *g.last, nil
	}
	targets, err := g.targets(ctx)
	if err != nil {
		return Reading{}, err
	}
	if len(targets) == 0 {
		return Reading{}, errors.New("no gateway replica to read metrics from")
	}
	r := Reading{At: now, Replicas: make(map[string]map[string]Counts, len(targets))}
	var errs []error
	for _, t := range targets {
		counts, err := g.scrape(ctx, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Replicas[t] = counts
	}
	if len(r.Replicas) == 0 {
		return Reading{}, errors.Join(errs...)
	}
	g.last = &r
	return r, nil
}

func (g *GatewaySource) now() time.Time {
	if g.Clock != nil {
		return g.Clock()
	}
	return time.Now()
}

// targets are the fixed URLs plus one per ready endpoint of the Service.
func (g *GatewaySource) targets(ctx context.Context) ([]string, error) {
	out := slices.Clone(g.URLs)
	if g.Service == "" || g.Reader == nil {
		return out, nil
	}
	ns, name, ok := strings.Cut(g.Service, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("gateway metrics Service %q is not namespace/name", g.Service)
	}
	list := &discoveryv1.EndpointSliceList{}
	if err := g.Reader.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return nil, fmt.Errorf("list endpoints of gateway metrics Service %s: %w", g.Service, err)
	}
	for _, s := range list.Items {
		var port int32
		for _, p := range s.Ports {
			if p.Port != nil && (g.Port == "" || (p.Name != nil && *p.Name == g.Port)) {
				port = *p.Port
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				u := url.URL{Scheme: "http", Host: net.JoinHostPort(a, strconv.Itoa(int(port))), Path: "/metrics"}
				out = append(out, u.String())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (g *GatewaySource) scrape(ctx context.Context, target string) (map[string]Counts, error) {
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 3 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", target, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", target, err)
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", target, res.Status)
	}
	counts, err := parseGatewayMetrics(res.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", target, err)
	}
	return counts, nil
}
