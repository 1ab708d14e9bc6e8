package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/pylon-dev/pylon/test/testenv"
)

// These tests send objects to a real kube-apiserver with Pylon's CRDs and
// check that the CRD's schema and CEL rules accept the valid ones and reject
// the invalid ones with a message that names the field and says what is wrong.

var k8s client.Client

func TestMain(m *testing.M) {
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s, err = client.New(env.Config, client.Options{Scheme: env.Scheme})
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	_ = env.Stop()
	os.Exit(code)
}

const webAppHead = `
apiVersion: pylon.dev/v1alpha1
kind: WebApp
metadata: {name: shop, namespace: default}
`

// webApp returns a WebApp manifest with spec.
func webApp(spec string) string { return webAppHead + "spec:\n" + indent(spec) }

func exposureClass(name, spec string) string {
	return "apiVersion: pylon.dev/v1alpha1\nkind: ExposureClass\nmetadata: {name: " + name + "}\nspec:\n" + indent(spec)
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestValidObjectsAreAccepted(t *testing.T) {
	for name, manifest := range map[string]string{
		"minimal WebApp": webApp(`image: registry.example.com/shop:1.4.2`),
		"full WebApp": webApp(`
image: registry.example.com/shop:1.4.2
port: 8080
autoscaling: {minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 70}
hostname: shop.apps.example.com
path: /shop/v1
exposure: {class: public}
tls: {mode: Auto, secretName: shop-tls, redirectHTTP: true, issuerRef: {name: letsencrypt}}
canary:
  image: registry.example.com/shop:1.5.0
  weight: 10
  headerMatch: {name: x-release-track, value: canary}
  analysis: {steps: [1, 5], stepDuration: 2m, minRequests: 100, maxErrorRateIncrease: 0, maxLatencyRatio: "1.25"}
availability: {minAvailable: 1}
readinessProbe: {path: /ready}
securityContext: {runAsUser: 10001, runAsGroup: 10001, fsGroup: 2000, readOnlyRootFilesystem: true}
shutdown: {preStopSleepSeconds: 10, terminationGracePeriodSeconds: 60}
`),
		"TLS Secret mode": webApp(`
image: shop:1
hostname: shop.example.com
tls: {mode: Secret, secretName: my-cert}
`),
		"Gateway class": exposureClass("public", `
type: Gateway
gateway: {name: public-web, namespace: platform-ingress}
allowedDomains: ["*.apps.example.com", "example.com"]
allowedNamespaces: {selector: {matchLabels: {pylon.dev/public: "true"}}}
tls: {issuerRef: {kind: ClusterIssuer, name: letsencrypt}, defaultMode: Auto}
dns: {mode: ExternalDNS, ttl: 300}
`),
		"Ingress class": exposureClass("nginx", "type: Ingress\ningressClassName: nginx"),
		"class allowing more issuers": exposureClass("issuers", `
type: Ingress
ingressClassName: nginx
tls:
  issuerRef: {name: letsencrypt}
  allowedIssuers: [{name: letsencrypt-staging}, {name: team-ca, kind: Issuer}, {name: pca, kind: ClusterIssuer, group: awspca.cert-manager.io}]
`),
		"class setting the certificate lifetime":          exposureClass("lifetime", "type: ClusterLocal\ntls: {duration: 1h, renewBefore: 59m50s}"),
		"class setting renewBefore only":                  exposureClass("renew-only", "type: ClusterLocal\ntls: {renewBefore: 720h}"),
		"class setting duration only":                     exposureClass("duration-only", "type: ClusterLocal\ntls: {duration: 2160h0m0s}"),
		"path with escapes that survive normalisation":    webApp("image: shop:1\npath: /caf%C3%A9/100%25/a%20b/what%3F"),
		"ClusterLocal class":                              exposureClass("internal", "type: ClusterLocal"),
		"root group and fsGroup (OpenShift-style images)": webApp("image: shop:1\nsecurityContext: {runAsUser: 1000, runAsGroup: 0, fsGroup: 0}"),
		"no preStop sleep":                                webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 0, terminationGracePeriodSeconds: 1}"),
		"a sleep under the default grace":                 webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 29}"),
		"a grace above the default sleep":                 webApp("image: shop:1\nshutdown: {terminationGracePeriodSeconds: 6}"),
	} {
		t.Run(name, func(t *testing.T) {
			obj := decode(t, manifest)
			if err := k8s.Create(context.Background(), obj, client.DryRunAll); err != nil {
				t.Fatalf("a valid object was rejected: %v", err)
			}
		})
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	obj := decode(t, webApp(`
image: shop:1
autoscaling: {maxReplicas: 3}
canary: {image: shop:2, analysis: {}}
tls: {mode: Auto, issuerRef: {name: le}}
`))
	if err := k8s.Create(context.Background(), obj, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"spec.port":                                 int64(8080),
		"spec.path":                                 "/",
		"spec.autoscaling.minReplicas":              int64(1),
		"spec.canary.weight":                        int64(0),
		"spec.canary.analysis.stepDuration":         "1m",
		"spec.canary.analysis.minRequests":          int64(50),
		"spec.canary.analysis.maxErrorRateIncrease": int64(1),
		"spec.tls.issuerRef.kind":                   "ClusterIssuer",
		"spec.tls.issuerRef.group":                  "cert-manager.io",
	} {
		got, found, err := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(path, ".")...)
		if err != nil || !found || got != want {
			t.Errorf("%s = %v (found %v, %v), want default %v", path, got, found, err, want)
		}
	}
}

func TestInvalidObjectsAreRejected(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".example.com"
	cases := []struct {
		name, manifest string
		// want are substrings the API server's error must contain: the
		// field's path and the explanation.
		want []string
	}{
		{"image missing", webApp(`port: 8080`), []string{"spec.image", "Required value"}},
		{"image empty", webApp(`image: ""`), []string{"spec.image", "image is required"}},
		{"image with a space", webApp(`image: "shop 1"`), []string{"spec.image", "must not contain spaces"}},
		{"upper-case hostname", webApp("image: shop:1\nhostname: Shop.Example.com"), []string{"spec.hostname", "hostname must be lower case"}},
		{"wildcard hostname", webApp("image: shop:1\nhostname: '*.example.com'"), []string{"spec.hostname", "must not be a wildcard"}},
		{"hostname with a trailing dot", webApp("image: shop:1\nhostname: shop.example.com."), []string{"spec.hostname", "no trailing dot"}},
		{"hostname with an empty label", webApp("image: shop:1\nhostname: shop..example.com"), []string{"spec.hostname", "must be a DNS name"}},
		{"hostname longer than 253", webApp("image: shop:1\nhostname: " + long), []string{"spec.hostname", "253"}},
		{"hostname label longer than 63", webApp("image: shop:1\nhostname: " + strings.Repeat("x", 64) + ".example.com"), []string{"spec.hostname", "at most 63 characters each"}},
		{"port 0", webApp("image: shop:1\nport: 0"), []string{"spec.port", "port must be between 1 and 65535"}},
		{"port 70000", webApp("image: shop:1\nport: 70000"), []string{"spec.port", "port must be between 1 and 65535"}},
		{"path without a leading slash", webApp("image: shop:1\npath: shop"), []string{"spec.path", "path must start with '/'"}},
		{"path with a query", webApp("image: shop:1\npath: /shop?x=1"), []string{"spec.path", "no spaces, '?' or '#'"}},
		{"path with a dot segment", webApp("image: shop:1\npath: /a/../b"), []string{"spec.path", "must not contain"}},
		{"path with a bare '%'", webApp("image: shop:1\npath: /100%"), []string{"spec.path", "does not start a percent-escape of two hex digits"}},
		{"path with a '%' and one hex digit", webApp("image: shop:1\npath: /a%4/b"), []string{"spec.path", "write a literal '%' as %25"}},
		{"path with a '%' and no hex", webApp("image: shop:1\npath: /a%zz"), []string{"spec.path", "does not start a percent-escape"}},
		{"path with an encoded slash", webApp("image: shop:1\npath: /a%2Fb"), []string{"spec.path", "must not contain an encoded '/' (%2F)"}},
		{"path with a lower-case encoded slash", webApp("image: shop:1\npath: /a%2fb"), []string{"spec.path", "encoded '/'"}},
		{"path with an encoded letter", webApp("image: shop:1\npath: /%41pi"), []string{"spec.path", "must not percent-encode a letter, digit"}},
		{"path with an encoded dot segment", webApp("image: shop:1\npath: /a/%2E%2E/b"), []string{"spec.path", "'.'"}},
		{"path with an encoded tilde", webApp("image: shop:1\npath: /%7Euser"), []string{"spec.path", "write the character itself"}},
		{"path with lower-case hex digits", webApp("image: shop:1\npath: /caf%c3%a9"), []string{"spec.path", "upper-case hex digits (%C3, not %c3)"}},
		{"negative replicas", webApp("image: shop:1\nreplicas: -1"), []string{"spec.replicas", "replicas must not be negative"}},
		{"replicas and autoscaling", webApp("image: shop:1\nreplicas: 2\nautoscaling: {maxReplicas: 3}"), []string{"spec.replicas", "set either replicas (a fixed size) or autoscaling (a range), not both"}},
		{"autoscaling minimum 0", webApp("image: shop:1\nautoscaling: {minReplicas: 0, maxReplicas: 3}"), []string{"spec.autoscaling.minReplicas", "must be at least 1"}},
		{"autoscaling minimum above maximum", webApp("image: shop:1\nautoscaling: {minReplicas: 5, maxReplicas: 2}"), []string{"spec.autoscaling.minReplicas", "must not be greater than autoscaling.maxReplicas"}},
		{"autoscaling without maximum", webApp("image: shop:1\nautoscaling: {minReplicas: 2}"), []string{"spec.autoscaling.maxReplicas", "Required value"}},
		{"TLS Secret mode without a Secret", webApp("image: shop:1\ntls: {mode: Secret}"), []string{"spec.tls.secretName", "tls.secretName is required when tls.mode is Secret"}},
		{"unknown TLS mode", webApp("image: shop:1\ntls: {mode: Manual}"), []string{"spec.tls.mode", `supported values: "Disabled", "Auto", "Secret"`}},
		{"issuer with a Secret", webApp("image: shop:1\ntls: {mode: Secret, secretName: s, issuerRef: {name: le}}"), []string{"spec.tls.issuerRef", "applies only to tls.mode Auto"}},
		{"canary weight above 100", webApp("image: shop:1\ncanary: {image: shop:2, weight: 101}"), []string{"spec.canary.weight", "canary.weight is a percentage: 0 to 100"}},
		{"canary weight below 0", webApp("image: shop:1\ncanary: {image: shop:2, weight: -5}"), []string{"spec.canary.weight", "0 to 100"}},
		{"canary without an image", webApp("image: shop:1\ncanary: {weight: 10}"), []string{"spec.canary.image", "canary.image is required"}},
		{"canary header with a space", webApp("image: shop:1\ncanary: {image: shop:2, headerMatch: {name: 'x release', value: a}}"), []string{"spec.canary.headerMatch.name", "must be an HTTP header name"}},
		{"analysis step of 0", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {steps: [0, 25]}}"), []string{"spec.canary.analysis.steps", "percentages between 1 and 99"}},
		{"analysis step of 100", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {steps: [5, 100]}}"), []string{"spec.canary.analysis.steps", "percentages between 1 and 99"}},
		{"analysis step repeated", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {steps: [5, 5]}}"), []string{"spec.canary.analysis.steps", "must not repeat a weight"}},
		{"analysis step too short", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {stepDuration: 1s}}"), []string{"spec.canary.analysis.stepDuration", "between 5s and 24h"}},
		{"analysis step not a duration", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {stepDuration: soon}}"), []string{"spec.canary.analysis.stepDuration"}},
		{"analysis without requests", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {minRequests: 0}}"), []string{"spec.canary.analysis.minRequests", "between 1 and 1000000"}},
		{"analysis error increase above 100", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {maxErrorRateIncrease: 101}}"), []string{"spec.canary.analysis.maxErrorRateIncrease", "percentage points"}},
		{"analysis latency ratio below 1", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {maxLatencyRatio: '0.5'}}"), []string{"spec.canary.analysis.maxLatencyRatio", "a decimal of at least 1"}},
		{"analysis latency ratio not a number", webApp("image: shop:1\ncanary: {image: shop:2, weight: 50, analysis: {maxLatencyRatio: fast}}"), []string{"spec.canary.analysis.maxLatencyRatio", "a decimal of at least 1"}},
		{"Prometheus metrics without a URL", exposureClass("c6", "type: ClusterLocal\nmetrics: {source: Prometheus}"), []string{"spec.metrics.prometheus", "needs metrics.prometheus.url"}},
		{"Prometheus URL not http", exposureClass("c7", "type: ClusterLocal\nmetrics: {prometheus: {url: 'ftp://prom'}}"), []string{"spec.metrics.prometheus.url", "http:// or https://"}},
		{"unknown metrics source", exposureClass("c8", "type: ClusterLocal\nmetrics: {source: Datadog}"), []string{"spec.metrics.source", `supported values: "PylonGateway", "Prometheus", "None"`}},
		{"two disruption budgets", webApp("image: shop:1\navailability: {minAvailable: 1, maxUnavailable: 1}"), []string{"spec.availability.maxUnavailable", "not both"}},
		{"run as root", webApp("image: shop:1\nsecurityContext: {runAsUser: 0}"), []string{"spec.securityContext.runAsUser", "must not be 0: the restricted Pod Security Standard forbids running as root"}},
		{"negative UID", webApp("image: shop:1\nsecurityContext: {runAsUser: -1}"), []string{"spec.securityContext.runAsUser", "a UID between 1 and 2147483647"}},
		{"UID above 2^31-1", webApp("image: shop:1\nsecurityContext: {runAsUser: 2147483648}"), []string{"spec.securityContext.runAsUser", "a UID between 1 and 2147483647"}},
		{"negative GID", webApp("image: shop:1\nsecurityContext: {runAsGroup: -5}"), []string{"spec.securityContext.runAsGroup", "a GID between 0 and 2147483647"}},
		{"negative fsGroup", webApp("image: shop:1\nsecurityContext: {fsGroup: -1}"), []string{"spec.securityContext.fsGroup", "a GID between 0 and 2147483647"}},
		{"read-only root not a boolean", webApp("image: shop:1\nsecurityContext: {readOnlyRootFilesystem: sometimes}"), []string{"spec.securityContext.readOnlyRootFilesystem", "boolean"}},
		{"negative preStop sleep", webApp("image: shop:1\nshutdown: {preStopSleepSeconds: -1}"), []string{"spec.shutdown.preStopSleepSeconds", "between 0 and 300"}},
		{"preStop sleep above 300", webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 301, terminationGracePeriodSeconds: 600}"), []string{"spec.shutdown.preStopSleepSeconds", "between 0 and 300"}},
		{"grace period of 0", webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 0, terminationGracePeriodSeconds: 0}"), []string{"spec.shutdown.terminationGracePeriodSeconds", "between 1 and 3600"}},
		{"grace period above an hour", webApp("image: shop:1\nshutdown: {terminationGracePeriodSeconds: 3601}"), []string{"spec.shutdown.terminationGracePeriodSeconds", "between 1 and 3600"}},
		{"grace equal to the sleep", webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 20, terminationGracePeriodSeconds: 20}"), []string{"spec.shutdown.terminationGracePeriodSeconds", "must be greater than shutdown.preStopSleepSeconds", "the app would get no time to stop"}},
		{"sleep above the default grace", webApp("image: shop:1\nshutdown: {preStopSleepSeconds: 45}"), []string{"spec.shutdown.terminationGracePeriodSeconds", "(default 30) must be greater than shutdown.preStopSleepSeconds"}},
		{"grace under the default sleep", webApp("image: shop:1\nshutdown: {terminationGracePeriodSeconds: 3}"), []string{"spec.shutdown.terminationGracePeriodSeconds", "shutdown.preStopSleepSeconds (default 5)"}},
		{"probe path without a slash", webApp("image: shop:1\nreadinessProbe: {path: ready}"), []string{"spec.readinessProbe.path", "probe path must start with '/'"}},
		{"WebApp name too long", strings.Replace(webApp("image: shop:1"), "name: shop", "name: "+strings.Repeat("s", 57), 1), []string{"at most 56 characters"}},
		{"WebApp name starting with a digit", strings.Replace(webApp("image: shop:1"), "name: shop", "name: 1shop", 1), []string{"must start with a letter"}},
		{"Gateway class without a Gateway", exposureClass("c1", "type: Gateway"), []string{"spec.gateway", "type Gateway needs spec.gateway"}},
		{"Ingress class without an IngressClass", exposureClass("c2", "type: Ingress"), []string{"spec.ingressClassName", "type Ingress needs spec.ingressClassName"}},
		{"ClusterLocal class with a Gateway", exposureClass("c3", "type: ClusterLocal\ngateway: {name: g, namespace: ns1}"), []string{"spec.gateway", "applies only to type Gateway"}},
		{"Gateway class with an IngressClass", exposureClass("c4", "type: Gateway\ngateway: {name: g, namespace: ns1}\ningressClassName: nginx"), []string{"spec.ingressClassName", "applies only to type Ingress"}},
		{"unknown class type", exposureClass("c5", "type: LoadBalancer"), []string{"spec.type", `supported values: "Gateway", "Ingress", "ClusterLocal"`}},
		{"upper-case allowed domain", exposureClass("c6", "type: ClusterLocal\nallowedDomains: [Apps.Example.com]"), []string{"spec.allowedDomains", "lower-case DNS names, optionally starting with '*.'"}},
		{"DNS TTL of 0", exposureClass("c7", "type: ClusterLocal\ndns: {mode: ExternalDNS, ttl: 0}"), []string{"spec.dns.ttl", "between 1 second and 604800"}},
		{"empty namespace restriction", exposureClass("c8", "type: ClusterLocal\nallowedNamespaces: {}"), []string{"spec.allowedNamespaces", "needs a selector or names"}},
		{"unknown DNS mode", exposureClass("c9", "type: ClusterLocal\ndns: {mode: Route53}"), []string{"spec.dns.mode", "supported values"}},
		{"allowed issuer of an unknown kind", exposureClass("c10", "type: ClusterLocal\ntls: {allowedIssuers: [{name: a, kind: Vault}]}"), []string{"spec.tls.allowedIssuers[0].kind", `supported values: "Issuer", "ClusterIssuer"`}},
		{"allowed issuer without a name", exposureClass("c11", "type: ClusterLocal\ntls: {allowedIssuers: [{kind: Issuer}]}"), []string{"spec.tls.allowedIssuers[0].name", "Required value"}},
		{"allowed issuer listed twice", exposureClass("c12", "type: ClusterLocal\ntls: {allowedIssuers: [{name: a}, {name: a, kind: ClusterIssuer}]}"), []string{"spec.tls.allowedIssuers", "must not list the same issuer (name, kind and group) twice"}},
		{"too many allowed issuers", exposureClass("c13", "type: ClusterLocal\ntls: {allowedIssuers: ["+manyIssuers(17)+"]}"), []string{"spec.tls.allowedIssuers", "must have at most 16 items"}},
		{"certificate duration under 1h", exposureClass("c14", "type: ClusterLocal\ntls: {duration: 59m}"), []string{"spec.tls.duration", "tls.duration must be at least 1h (cert-manager's minimum certificate lifetime)"}},
		{"certificate duration not a duration", exposureClass("c15", "type: ClusterLocal\ntls: {duration: 90d}"), []string{"spec.tls.duration", "should match"}},
		{"renewBefore as long as duration", exposureClass("c16", "type: ClusterLocal\ntls: {duration: 1h, renewBefore: 60m}"), []string{"spec.tls.renewBefore", "tls.renewBefore must be shorter than tls.duration"}},
		{"renewBefore beyond the default duration", exposureClass("c17", "type: ClusterLocal\ntls: {renewBefore: 2160h}"), []string{"spec.tls.renewBefore", "tls.renewBefore must be shorter than tls.duration (cert-manager's default of 2160h"}},
		{"renewBefore of zero", exposureClass("c18", "type: ClusterLocal\ntls: {duration: 1h, renewBefore: 0s}"), []string{"spec.tls.renewBefore", "tls.renewBefore must be at least 5m"}},
		{"renewBefore under cert-manager's minimum", exposureClass("c19", "type: ClusterLocal\ntls: {duration: 1h, renewBefore: 4m59s}"), []string{"spec.tls.renewBefore", "tls.renewBefore must be at least 5m (cert-manager's minimum)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := decode(t, c.manifest)
			err := k8s.Create(context.Background(), obj, client.DryRunAll)
			if err == nil {
				t.Fatalf("the API server accepted an invalid %s", obj.GetKind())
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// manyIssuers lists n distinct issuers in YAML flow style.
func manyIssuers(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("{name: issuer-%d}", i)
	}
	return strings.Join(out, ", ")
}

func decode(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, manifest)
	}
	return obj
}

// TestSamplesAreValid sends every manifest in config/samples to the API server.
func TestSamplesAreValid(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "pylon_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(raw), "\n---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			obj := decode(t, doc)
			if obj.GetNamespace() == "" && obj.GetKind() == "WebApp" {
				obj.SetNamespace("default")
			}
			if err := k8s.Create(context.Background(), obj, client.DryRunAll); err != nil {
				t.Errorf("%s document %d: %v", filepath.Base(f), i, err)
			}
		}
	}
}
