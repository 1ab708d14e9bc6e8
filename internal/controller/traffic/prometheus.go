package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pylon-dev/pylon/internal/contract"
)

// PrometheusSource reads the gateway's per-backend series from a Prometheus
// server that scrapes every gateway replica. Prometheus sums the replicas,
// so a replica restart shows as a smaller total, which a window reads as a
// reset (it then counts from zero and undercounts a little; it never
// invents requests).
type PrometheusSource struct {
	// URL is the server's base URL, e.g. http://prometheus.monitoring:9090.
	URL string
	// Client queries; nil: a client with a 5 s timeout.
	Client *http.Client
	// Clock; nil means time.Now.
	Clock func() time.Time
}

// Name identifies the source in status.
func (p *PrometheusSource) Name() string { return "prometheus" }

// Read queries the totals of namespace's backend Services.
func (p *PrometheusSource) Read(ctx context.Context, namespace string) (Reading, error) {
	now := time.Now()
	if p.Clock != nil {
		now = p.Clock()
	}
	sel := fmt.Sprintf(`{%s=%q,%s=%q}`, contract.LabelBackendNamespace, namespace, contract.LabelRouteNamespace, namespace)
	counts := map[string]Counts{}
	reqs, err := p.query(ctx, fmt.Sprintf("sum by (%s, %s, %s) (%s%s)", contract.LabelBackendName, contract.LabelCode, contract.LabelOrigin, contract.MetricBackendRequests, sel))
	if err != nil {
		return Reading{}, err
	}
	for _, s := range reqs {
		key := namespace + "/" + s.Metric[contract.LabelBackendName]
		c := counts[key]
		c.Requests += s.value
		if s.Metric[contract.LabelCode] == "5xx" {
			c.Errors += s.value
			if s.Metric[contract.LabelOrigin] == contract.OriginGateway {
				c.GatewayErrors += s.value
			}
		}
		counts[key] = c
	}
	buckets, err := p.query(ctx, fmt.Sprintf("sum by (%s, le) (%s_bucket%s)", contract.LabelBackendName, contract.MetricBackendDuration, sel))
	if err != nil {
		return Reading{}, err
	}
	for _, s := range buckets {
		le, err := strconv.ParseFloat(s.Metric["le"], 64)
		if err != nil && s.Metric["le"] != "+Inf" {
			continue
		}
		if s.Metric["le"] == "+Inf" {
			le = math.Inf(1)
		}
		key := namespace + "/" + s.Metric[contract.LabelBackendName]
		c := counts[key]
		if c.Buckets == nil {
			c.Buckets = map[float64]float64{}
		}
		c.Buckets[le] += s.value
		counts[key] = c
	}
	return Reading{At: now, Replicas: map[string]map[string]Counts{"prometheus": counts}}, nil
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	value  float64
}

// query runs an instant query and returns its vector.
func (p *PrometheusSource) query(ctx context.Context, q string) ([]promSample, error) {
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	u := strings.TrimSuffix(p.URL, "/") + "/api/v1/query?" + url.Values{"query": {q}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("query prometheus: %w", err)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query prometheus: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxScrapeBytes)).Decode(&body); err != nil {
		return nil, fmt.Errorf("query prometheus: %s: %w", res.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query prometheus: %s: %s", res.Status, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query prometheus: want a vector, got %q", body.Data.ResultType)
	}
	for i := range body.Data.Result {
		s, _ := body.Data.Result[i].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query prometheus: sample value %q: %w", s, err)
		}
		body.Data.Result[i].value = v
	}
	return body.Data.Result, nil
}
