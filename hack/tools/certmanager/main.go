// Command cert-manager runs cert-manager's own controllers for the CA issuer
// path, the way upstream's cmd/controller does (pkg/controller's registered
// constructors, one ContextFactory, then the shared informer factories), for
// Pylon's local cluster. Upstream's cmd/controller is a module of its own
// that the Go module proxy does not serve; this is the smallest main that
// runs the same controllers from github.com/cert-manager/cert-manager.
//
// Only these controllers are linked and run: the Certificate pipeline
// (trigger, key manager, request manager, readiness, issuing, revision
// manager), the CertificateRequest approver and CA signer, and the Issuer
// and ClusterIssuer controllers with the CA issuer registered; the
// self-signed issuer too, because it is tiny and useful for making CAs. No
// ACME, Vault or Venafi controller is registered or run, and no Vault or
// Venafi SDK is linked; pkg/controller itself still links cert-manager's
// ACME client and account registry (and go-ldap), which stay unused.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// The issuer types the Issuer and ClusterIssuer controllers can set up.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// controllers are the registered controllers this binary runs.
var controllers = []string{
	trigger.ControllerName, keymanager.ControllerName, requestmanager.ControllerName,
	readiness.ControllerName, issuing.ControllerName, revisionmanager.ControllerName,
	approver.ControllerName, crca.CRControllerName, crselfsigned.CRControllerName,
	issuers.ControllerName, clusterissuers.ControllerName,
}

func main() {
	var (
		kubeconfig     = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster (default $KUBECONFIG)")
		clusterResNS   = flag.String("cluster-resource-namespace", "cert-manager", "namespace of the Secrets ClusterIssuers refer to")
		metricsAddr    = flag.String("metrics-listen-address", "127.0.0.1:9402", "address of the Prometheus metrics endpoint (0 turns it off)")
		workers        = flag.Int("concurrent-workers", 5, "workers per controller")
		qps            = flag.Float64("kube-api-qps", 20, "client-side QPS limit, when the API server has no priority and fairness")
		burst          = flag.Int("kube-api-burst", 50, "client-side burst limit")
		minBackoff     = flag.Duration("certificate-request-minimum-backoff-duration", time.Hour, "first wait before re-issuing after a failed CertificateRequest")
		maxBackoff     = flag.Duration("certificate-request-maximum-backoff-duration", 32*time.Hour, "longest wait before re-issuing after failed CertificateRequests")
		enableOwnerRef = flag.Bool("enable-certificate-owner-ref", false, "make each Certificate the owner of its Secret")
	)
	// klog's flags (-v, ...), with cert-manager's usual info level.
	klog.InitFlags(nil)
	_ = flag.Set("v", "2")
	flag.Parse()
	if err := run(*kubeconfig, *clusterResNS, *metricsAddr, *workers, float32(*qps), *burst, *minBackoff, *maxBackoff, *enableOwnerRef); err != nil {
		fmt.Fprintln(os.Stderr, "cert-manager:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, clusterResNS, metricsAddr string, workers int, qps float32, burst int, minBackoff, maxBackoff time.Duration, ownerRef bool) error {
	logf.InitLogs()
	defer logf.FlushLogs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := logf.FromContext(ctx, "controller")
	ctx = logf.NewContext(ctx, log)

	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   qps,
		KubernetesAPIBurst: burst,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: clusterResNS},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           ownerRef,
			CertificateRequestMinimumBackoffDuration: minBackoff,
			CertificateRequestMaximumBackoffDuration: maxBackoff,
		},
	})
	if err != nil {
		return err
	}
	cmctx, err := factory.Build()
	if err != nil {
		return err
	}

	known := controller.Known()
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range controllers {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %s is not registered (registered: %s)", name, strings.Join(sortedKeys(known), ", "))
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("build controller %s: %w", name, err)
		}
		log.Info("starting controller", "controller", name)
		g.Go(func() error { return c.Run(workers, gctx) })
	}
	if extra := slices.DeleteFunc(sortedKeys(known), func(n string) bool { return slices.Contains(controllers, n) }); len(extra) > 0 {
		return fmt.Errorf("controllers registered but not run, a link of a package this binary should not contain: %s", strings.Join(extra, ", "))
	}

	if metricsAddr != "0" && metricsAddr != "" {
		host, _, err := net.SplitHostPort(metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-listen-address: %w", err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("--metrics-listen-address %s: only loopback addresses are allowed", metricsAddr)
		}
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		cmctx.Metrics.SetupCertificateCollector(cmctx.SharedInformerFactory.Certmanager().V1().Certificates().Lister())
		cmctx.Metrics.SetupIssuerCollector(cmctx.SharedInformerFactory.Certmanager().V1().Issuers().Lister())
		cmctx.Metrics.SetupClusterIssuerCollector(cmctx.SharedInformerFactory.Certmanager().V1().ClusterIssuers().Lister())
		srv := cmctx.Metrics.NewServer(ln)
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx) //nolint:contextcheck // the root context has ended
		})
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}

	cmctx.SharedInformerFactory.Start(gctx.Done())
	cmctx.KubeSharedInformerFactory.Start(gctx.Done())
	cmctx.HTTP01ResourceMetadataInformersFactory.Start(gctx.Done())
	log.Info("cert-manager controllers running", "controllers", controllers, "clusterResourceNamespace", clusterResNS)

	err = g.Wait()
	cmctx.HTTP01ResourceMetadataInformersFactory.Shutdown()
	cmctx.KubeSharedInformerFactory.Shutdown()
	cmctx.SharedInformerFactory.Shutdown()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("control loops exited")
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
