// Command manager runs Pylon's controllers: it turns WebApps into the
// workload, routing, TLS and DNS objects that serve them. Flags and wiring
// only; the logic lives in internal/controller.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"strings"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/buildinfo"
	"github.com/pylon-dev/pylon/internal/controller"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
	"github.com/pylon-dev/pylon/internal/leaderelection"
	"github.com/pylon-dev/pylon/internal/memlimit"
)

// version and revision are stamped at build time with -ldflags
// "-X main.version=... -X main.revision=..."; internal/buildinfo falls back
// to what the Go toolchain recorded.
var version, revision string

func main() {
	var (
		metricsAddr, probeAddr, clusterDomain     string
		gatewayMetricsService, gatewayMetricsPort string
		gatewayMetricsURLs                        string
		logLevel                                  string
		leaderElect, secureMetrics, http2         bool
		printVersion                              bool
		concurrency, apiBurst                     int
		apiQPS, memoryLimitRatio                  float64
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint: :8443 for HTTPS, :8080 for HTTP, 0 to disable.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorisation.")
	flag.BoolVar(&http2, "enable-http2", false, "Serve metrics over HTTP/2 too (off by default: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	flag.StringVar(&clusterDomain, "cluster-domain", "cluster.local", "DNS domain of the cluster, for in-cluster URLs.")
	flag.IntVar(&concurrency, "concurrency", 4, "WebApps reconciled at once.")
	flag.Float64Var(&apiQPS, "kube-api-qps", -1, "Client-side limit of API requests per second; -1 leaves flow control to the API server's Priority and Fairness.")
	flag.IntVar(&apiBurst, "kube-api-burst", 0, "Client-side burst of API requests, with --kube-api-qps > 0.")
	flag.StringVar(&gatewayMetricsService, "gateway-metrics-service", "", "namespace/name of the bundled gateway's metrics Service; the manager reads every ready replica's /metrics behind it for canary traffic figures and analysis.")
	flag.StringVar(&gatewayMetricsPort, "gateway-metrics-port", "admin", "Name of the port of --gateway-metrics-service that serves /metrics.")
	flag.StringVar(&gatewayMetricsURLs, "gateway-metrics-url", "", "Comma-separated /metrics URLs of gateway replicas to read as they are (a gateway outside the cluster).")
	flag.StringVar(&logLevel, "log-level", "info", "Least severe level logged: debug, info, warn or error (--zap-log-level, which also takes a number for more verbose levels, wins when given).")
	flag.BoolVar(&printVersion, "version", false, "Print the version, commit and Go version, and exit.")
	flag.Float64Var(&memoryLimitRatio, "memory-limit-ratio", 0.9, "Share of the container's memory limit (cgroup) set as the Go runtime's soft memory limit, leaving at least 48 MiB for memory the runtime does not count (the binary's own pages, heap fragmentation), so the garbage collector works harder near the limit instead of the kernel killing the container or evicting the binary's pages; 0 leaves the runtime's default, and GOMEMLIMIT in the environment wins.")
	var lease leaderelection.Timings
	lease.BindFlags(flag.CommandLine)
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	build := buildinfo.Get(version, revision)
	if printVersion {
		fmt.Print(build.String("pylon-manager"))
		return
	}
	_, zapLevel, err := buildinfo.ParseLogLevel(logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level: %v\n", err)
		os.Exit(2)
	}
	if !flagSet("zap-log-level") {
		opts.Level = zapLevel
	}
	if err := lease.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "invalid lease timings: %v\n", err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	if err := memlimit.CheckRatio(memoryLimitRatio); err != nil {
		fmt.Fprintf(os.Stderr, "invalid --memory-limit-ratio: %v\n", err)
		os.Exit(2)
	}
	if res, err := memlimit.Apply(memoryLimitRatio); err != nil {
		log.Error(err, "Go memory limit not set")
	} else {
		log.Info(res.String())
	}
	ctrlmetrics.Registry.MustRegister(build.Collector())

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pylonv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gwv1.Install(scheme))
	utilruntime.Must(certmanagerv1.AddToScheme(scheme))
	utilruntime.Must(externaldnsv1alpha1.AddToScheme(scheme))

	var tlsOpts []func(*tls.Config)
	if !http2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(apiQPS), apiBurst
	mgrOpts := ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "pylon-manager.pylon.dev",
		LeaderElectionReleaseOnCancel: true,
		// Reads after our own writes see those writes: a reconcile never
		// acts on a status or child older than what it just wrote.
		Client: controller.ClientOptions(),
		// Cached objects keep only what the reconcilers read.
		Cache: controller.CacheOptions(),
	}
	lease.Apply(&mgrOpts)
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}

	ctx := ctrl.SetupSignalHandler()
	if err := controller.Setup(ctx, mgr, controller.Options{
		ClusterDomain: clusterDomain, Concurrency: concurrency,
		GatewayMetricsService: gatewayMetricsService, GatewayMetricsPort: gatewayMetricsPort, GatewayMetricsURLs: splitList(gatewayMetricsURLs),
		Metrics: ctrlmetrics.Registry,
	}); err != nil {
		log.Error(err, "unable to set up the controllers")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		os.Exit(1)
	}

	log.Info("starting manager", "version", build.Version, "revision", build.Revision)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
