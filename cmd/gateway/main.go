// Command gateway is Pylon's bundled data plane: it serves Gateway API
// routes of GatewayClasses with controllerName pylon.dev/gateway and
// Ingresses of IngressClasses with controller pylon.dev/ingress. Flags and
// wiring only; the logic lives in internal/gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/buildinfo"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/server"
	"github.com/pylon-dev/pylon/internal/gateway/status"
	"github.com/pylon-dev/pylon/internal/gateway/watch"
	"github.com/pylon-dev/pylon/internal/leaderelection"
	"github.com/pylon-dev/pylon/internal/memlimit"
)

// version and revision are stamped at build time with -ldflags
// "-X main.version=... -X main.revision=..."; internal/buildinfo falls back
// to what the Go toolchain recorded.
var version, revision string

func main() {
	var (
		adminAddr, bindAddr, gatewayAddrs, selfService, pool string
		logLevel, http1Engine                                string
		leaderElect, accessLog, printVersion, reusePort      bool
		portOffset                                           int
		memoryLimitRatio                                     float64
		readHeaderTimeout, idleTimeout, bodyIdleTimeout      time.Duration
		drainDelay, drainTimeout                             time.Duration
	)
	flag.StringVar(&adminAddr, "admin-bind-address", "127.0.0.1:9090", "Address of /healthz, /readyz and /metrics. Loopback by default: the manifests bind the Pod IP ($(POD_IP):9090, an IPv6 address needs no brackets) so that kubelet probes and in-cluster scrapes reach it, and loopback with hostNetwork, where the Pod IP is the node's address.")
	flag.StringVar(&bindAddr, "listener-bind-address", "", "IP the data-plane listeners bind (empty: all); tests use 127.0.0.1.")
	flag.IntVar(&portOffset, "listener-port-offset", 0, "Added to every listener port when binding (routing still uses the Gateway's port).")
	flag.StringVar(&gatewayAddrs, "gateway-address", "", "Comma-separated IPs or hostnames reported in Gateway and Ingress status; empty: taken from --gateway-service.")
	flag.StringVar(&pool, "gateway-address-pool", "", "Comma-separated CIDRs or IPs; when set, each Gateway gets one of these addresses for itself (its listeners bind it), instead of all Gateways sharing the gateway Service's address. Ingresses stay on the shared address.")
	flag.StringVar(&selfService, "gateway-service", "pylon-system/pylon-gateway", "namespace/name of the gateway's own Service, whose addresses are reported when --gateway-address is empty.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader to write status; every replica serves traffic.")
	flag.BoolVar(&accessLog, "access-log", true, "Write a JSON access log line per request to stdout.")
	flag.DurationVar(&readHeaderTimeout, "read-header-timeout", 10*time.Second, "Time a client has to send request headers (and finish the TLS handshake).")
	flag.DurationVar(&idleTimeout, "idle-timeout", 120*time.Second, "Keep-alive connections idle this long are closed.")
	flag.DurationVar(&bodyIdleTimeout, "request-body-idle-timeout", 30*time.Second, "Longest wait for the next bytes of a request body; a client that trickles or stalls its body gets 408 and the backend connection is released. Negative: no limit.")
	flag.DurationVar(&drainDelay, "drain-delay", 5*time.Second, "On SIGTERM, /readyz fails at once but connections are still accepted and served this long, so that endpoints, kube-proxy and load balancers stop sending new ones before the listeners close (EndpointSlice updates reach kube-proxy within about a second on a healthy cluster; 5s leaves room for a loaded one).")
	flag.DurationVar(&drainTimeout, "drain-timeout", 20*time.Second, "After the drain delay the listeners close and in-flight requests have this long to finish; event streams and WebSocket tunnels still open then are ended cleanly (last chunk, FIN) and what remains 2s later is closed. terminationGracePeriodSeconds must exceed drain-delay + drain-timeout + 2s.")
	flag.BoolVar(&reusePort, "listener-reuse-port", true, "Bind data-plane listeners with SO_REUSEPORT (Linux), so that two gateway processes serve the same address and port (replicas with hostNetwork during a rolling restart, the local cluster). The kernel resets connections still queued on a socket that closes unless sysctl net.ipv4.tcp_migrate_req=1 (Linux 5.14+) moves them to another process's socket; the drain delay keeps accepting so that the queue is empty by then. Any process of the same user can join the port.")
	flag.StringVar(&logLevel, "log-level", "info", "Least severe level of the gateway's own log (stderr): debug, info, warn or error. The access log (stdout) is not filtered by it.")
	flag.StringVar(&http1Engine, "http1-engine", server.EngineLean, "Engine serving HTTP/1.1 connections (plain, and TLS without h2): \"lean\" serves plain requests (no body, no upgrade, a short well-formed head) on one goroutine per connection and hands every other request, and the rest of its connection, to net/http; \"net/http\" serves all of them with net/http's server. See docs/gateway.md.")
	flag.BoolVar(&printVersion, "version", false, "Print the version, commit and Go version, and exit.")
	flag.Float64Var(&memoryLimitRatio, "memory-limit-ratio", 0.9, "Share of the container's memory limit (cgroup) set as the Go runtime's soft memory limit, leaving at least 48 MiB for memory the runtime does not count (the binary's own pages, heap fragmentation), so the garbage collector works harder near the limit instead of the kernel killing the container or evicting the binary's pages; 0 leaves the runtime's default, and GOMEMLIMIT in the environment wins.")
	var lease leaderelection.Timings
	lease.BindFlags(flag.CommandLine)
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	build := buildinfo.Get(version, revision)
	if printVersion {
		fmt.Print(build.String("pylon-gateway"))
		return
	}
	level, zapLevel, err := buildinfo.ParseLogLevel(logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level: %v\n", err)
		os.Exit(2)
	}
	if !flagSet("zap-log-level") {
		opts.Level = zapLevel // --log-level sets both; --zap-log-level still wins for controller-runtime's log
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	if err := memlimit.CheckRatio(memoryLimitRatio); err != nil {
		logger.Error("invalid --memory-limit-ratio", "error", err)
		os.Exit(2)
	}
	if res, err := memlimit.Apply(memoryLimitRatio); err != nil {
		logger.Warn("Go memory limit not set", "error", err)
	} else {
		logger.Info(res.String())
	}
	if err := lease.Validate(); err != nil {
		logger.Error("invalid lease timings", "error", err)
		os.Exit(2)
	}
	if err := server.CheckEngine(http1Engine); err != nil {
		logger.Error("invalid --http1-engine", "error", err)
		os.Exit(2)
	}
	if drainDelay < 0 || drainTimeout < 0 {
		logger.Error("invalid drain timings: --drain-delay and --drain-timeout must not be negative", "drainDelay", drainDelay, "drainTimeout", drainTimeout)
		os.Exit(2)
	}
	adminAddr, err = hostPort(adminAddr)
	if err != nil {
		logger.Error("invalid --admin-bind-address", "error", err)
		os.Exit(2)
	}
	addressPool, err := watch.ParsePool(pool)
	if err != nil {
		logger.Error("invalid --gateway-address-pool", "error", err)
		os.Exit(2)
	}
	if err := run(runConfig{
		adminAddr: adminAddr, bindAddr: bindAddr, portOffset: int32(portOffset),
		gatewayAddrs: gatewayAddrs, selfService: selfService, pool: addressPool, leaderElect: leaderElect, lease: lease, accessLog: accessLog,
		readHeaderTimeout: readHeaderTimeout, idleTimeout: idleTimeout, bodyIdleTimeout: bodyIdleTimeout, logger: logger, build: build,
		reusePort: reusePort, drainDelay: drainDelay, drainTimeout: drainTimeout, http1Engine: http1Engine,
	}); err != nil {
		logger.Error("gateway stopped", "error", err)
		os.Exit(1)
	}
}

type runConfig struct {
	adminAddr, bindAddr, gatewayAddrs, selfService  string
	pool                                            watch.Pool
	portOffset                                      int32
	leaderElect, accessLog, reusePort               bool
	lease                                           leaderelection.Timings
	readHeaderTimeout, idleTimeout, bodyIdleTimeout time.Duration
	drainDelay, drainTimeout                        time.Duration
	http1Engine                                     string
	logger                                          *slog.Logger
	build                                           buildinfo.Info
}

func run(c runConfig) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(gwv1.Install(scheme))
	utilruntime.Must(gwv1beta1.Install(scheme))
	utilruntime.Must(pylonv1alpha1.AddToScheme(scheme))

	cfg := ctrl.GetConfigOrDie()
	mgrOpts := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"}, // served on the admin port
		HealthProbeBindAddress: "0",
		// No process-wide election: only the status writer is elected
		// (below), so losing the lease stops status writes, never traffic.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// Only TLS Secrets are cached: the data plane never needs
			// others, and caching every Secret costs memory.
			&corev1.Secret{}: {Field: fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS))},
		}},
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return err
	}
	gatewayAPI := watch.GatewayAPIServed(mgr.GetRESTMapper())
	if !gatewayAPI {
		c.logger.Warn("Gateway API CRDs are not installed; serving Ingresses only until they are")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), c.build.Collector())
	metrics := proxy.NewMetrics(reg)
	var access *slog.Logger
	if c.accessLog {
		access = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	p := proxy.New(proxy.Options{AccessLog: access, Metrics: metrics, RequestBodyIdleTimeout: c.bodyIdleTimeout})
	reg.MustRegister(p.CertificateCollector())
	srv := server.New(p, server.Options{
		BindAddress: c.bindAddr, PortOffset: c.portOffset, ReusePort: c.reusePort,
		ReadHeaderTimeout: c.readHeaderTimeout, IdleTimeout: c.idleTimeout, Logger: c.logger,
		HTTP1Engine: c.http1Engine,
	})
	claims := watch.HostnameClaimsServed(mgr.GetRESTMapper())
	if !claims {
		c.logger.Warn("HostnameClaim CRD is not installed; hostname ownership follows object age only")
	}
	writer := &status.Writer{Client: mgr.GetClient(), GatewayAPI: gatewayAPI, Logger: c.logger, Recorder: mgr.GetEventRecorder("pylon-gateway")}
	builder := &watch.Builder{
		Cache: mgr.GetCache(), Reader: mgr.GetCache(), GatewayAPI: gatewayAPI, HostnameClaims: claims,
		Addresses: watch.Addresses{Static: splitList(c.gatewayAddrs), Service: parseNN(c.selfService), Pool: c.pool},
		Publish: func(t *ir.Table) error {
			p.Publish(t)
			if err := srv.Reconcile(t); err != nil {
				return fmt.Errorf("some listeners could not be opened: %w", err)
			}
			return nil
		},
		Status:       writer.Update,
		Detect:       func() bool { return watch.GatewayAPIServed(mgr.GetRESTMapper()) },
		OnGatewayAPI: writer.EnableGatewayAPI,
		Applied:      func(d time.Duration) { metrics.ObserveApply(d.Seconds()) },
		Logger:       c.logger,
	}
	if err := mgr.Add(builder); err != nil {
		return err
	}
	var statusWriter manager.Runnable = writer
	if c.leaderElect {
		statusWriter = &leaderelection.Elected{Config: cfg, Name: "pylon-gateway.pylon.dev", Timings: c.lease, Run: writer.Start, Logger: c.logger}
	}
	if err := mgr.Add(statusWriter); err != nil {
		return err
	}

	admin := server.NewAdminServer(c.adminAddr, server.AdminHandler(p, reg, srv.Check))
	go func() {
		if err := admin.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logger.Error("admin server stopped", "error", err)
		}
	}()

	c.logger.Info("starting gateway", "version", c.build.Version, "revision", c.build.Revision, "gatewayAPI", gatewayAPI)
	ctx := ctrl.SetupSignalHandler()
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(ctx) }()
	var mgrErr error
	select {
	case <-ctx.Done():
	case mgrErr = <-mgrDone:
		mgrDone = nil // the manager failed on its own; the data plane still drains
	}
	// The manager stops (and releases the status lease) while the data
	// plane drains: the published table stays in the proxy and the
	// listeners are closed by Drain alone, so nothing stops serving until
	// the drain delay has passed.
	c.logger.Info("draining", "delay", c.drainDelay, "timeout", c.drainTimeout)
	rep := srv.Drain(context.Background(), c.drainDelay, c.drainTimeout)
	c.logger.Info("drained", "accepting", rep.Delay.String(), "waited", rep.Wait.String(), "ended", rep.Ended, "forced", rep.Forced)
	if mgrDone != nil {
		mgrErr = <-mgrDone
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = admin.Shutdown(shutdown)
	return mgrErr
}

// hostPort returns addr as a host:port net.Listen accepts. An IPv6 address
// without brackets before the port ("fd00::1:9090", what "$(POD_IP):9090"
// expands to on an IPv6 cluster) gets them.
func hostPort(addr string) (string, error) {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", fmt.Errorf("%q has no port", addr)
	}
	host, port := addr[:i], addr[i+1:]
	if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	return net.JoinHostPort(host, port), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseNN(s string) types.NamespacedName {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		return types.NamespacedName{Name: s}
	}
	return types.NamespacedName{Namespace: ns, Name: name}
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
