package monitoring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
)

// alertExprs are the expressions of the chart's rules by alert name.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range checkRules(t, "charts/pylon/files/monitoring/rules.yaml", read(t, "charts/pylon/files/monitoring/rules.yaml")) {
		out[r.Alert] = strings.Join(strings.Fields(r.Expr), " ") // one line, as promqltest scripts need
	}
	return out
}

// The alert expressions, evaluated by Prometheus's own engine on series
// shaped as Pylon exports them, select what they are meant to and nothing
// else (the "for" durations are Prometheus's business, not tested here).
// Times: series start at 0, evaluation at 20m (time() = 1200).
func TestAlertExpressions(t *testing.T) {
	exprs := alertExprs(t)
	const day = 86400
	script := fmt.Sprintf(`
load 1m
  pylon_gateway_requests_total{kind="HTTPRoute",namespace="shop",name="web",code="2xx"} 0+90x30
  pylon_gateway_requests_total{kind="HTTPRoute",namespace="shop",name="web",code="5xx"} 0+10x30
  pylon_gateway_requests_total{kind="HTTPRoute",namespace="blog",name="web",code="2xx"} 0+100x30
  pylon_gateway_requests_total{kind="HTTPRoute",namespace="blog",name="web",code="5xx"} 0+2x30
  pylon_gateway_requests_total{kind="Ingress",namespace="idle",name="web",code="5xx"} 0+1x30
  pylon_gateway_requests_total{kind="",namespace="",name="",code="4xx"} 0+500x30
  pylon_gateway_requests_total{kind="",namespace="",name="",code="5xx"} 0+500x30
  pylon_gateway_certificate_expiry_timestamp_seconds{namespace="shop",name="soon-tls",pod="gw-1"} %[1]dx30
  pylon_gateway_certificate_expiry_timestamp_seconds{namespace="shop",name="soon-tls",pod="gw-2"} %[1]dx30
  pylon_gateway_certificate_expiry_timestamp_seconds{namespace="shop",name="urgent-tls",pod="gw-1"} %[2]dx30
  pylon_gateway_certificate_expiry_timestamp_seconds{namespace="blog",name="fresh-tls",pod="gw-1"} %[3]dx30
  pylon_webapp_condition{namespace="shop",name="web",condition="Ready",status="False",reason="ProgressDeadlineExceeded"} 1x30
  pylon_webapp_condition{namespace="shop",name="web",condition="Available",status="False",reason="ProgressDeadlineExceeded"} 1x30
  pylon_webapp_condition{namespace="blog",name="web",condition="Ready",status="True",reason="Ready"} 1x30
  pylon_webapp_condition{namespace="new",name="web",condition="Ready",status="Unknown",reason="Reconciling"} 1x30
  pylon_webapp_reconciles_total{result="error",reason="ApplyFailed"} 0+6x30
  pylon_webapp_reconciles_total{result="success",reason="Ready"} 0+60x30
  pylon_webapp_reconciles_total{result="error",reason="ExposureFailed"} 0x30
  pylon_hostname_claims{state="held"} 4x30
  pylon_hostname_claims{state="conflicting"} 1x30

# 10%% of shop's requests fail; blog's 2%% do not count; the idle route
# (one request a minute) is below the traffic floor; unrouted requests are
# not a route's.
eval instant at 20m %[4]s
  {kind="HTTPRoute",namespace="shop",name="web"} 0.1

eval instant at 20m %[5]s
  {namespace="shop",name="soon-tls"} %[6]d
  {namespace="shop",name="urgent-tls"} %[7]d

eval instant at 20m %[8]s
  {namespace="shop",name="urgent-tls"} %[7]d

eval instant at 20m %[9]s
  {namespace="shop",name="web"} 1
  {namespace="new",name="web"} 1

eval instant at 20m %[10]s
  {reason="ApplyFailed"} 0.1

eval instant at 20m %[11]s
  pylon_hostname_claims{state="conflicting"} 1
`,
		1200+10*day, 1200+2*day, 1200+60*day,
		exprs["PylonGatewayRouteErrors"],
		exprs["PylonCertificateExpiringSoon"], 10*day, 2*day,
		exprs["PylonCertificateExpiring"],
		exprs["PylonWebAppNotReady"],
		exprs["PylonReconcileErrors"],
		exprs["PylonHostnameConflict"],
	)
	promqltest.RunTest(t, script, promqltest.NewTestEngine(t, false, 5*time.Minute, 100000))
}
