// Command external-dns runs the real external-dns (sigs.k8s.io/external-dns,
// the version go.mod pins) for Pylon's local cluster: its flags, sources
// (crd for DNSEndpoint, ingress, gateway-httproute, ...), the TXT or noop
// registry, the plan and the controller loop, with the inmemory provider as
// the only DNS provider.
//
// Upstream's own main (controller.Execute) cannot be used as it is: the
// inmemory provider keeps its zone inside the process where nobody can read
// it. This main wires the same pieces as upstream's execute(), with the
// inmemory provider only, and adds one read-only HTTP view of the zone on
// the --metrics-address listener. The Makefile builds it against a copy of
// the upstream module without controller/execute.go (upstream's main
// wiring, which imports every provider's SDK through the provider factory
// and which this main replaces), so no other provider is compiled in:
//
//	GET /records   the records the inmemory provider holds, as JSON
//	GET /healthz   200 OK
//	GET /metrics   external-dns's Prometheus metrics
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	log "github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"sigs.k8s.io/external-dns/controller"
	"sigs.k8s.io/external-dns/endpoint"
	"sigs.k8s.io/external-dns/pkg/apis/externaldns"
	"sigs.k8s.io/external-dns/pkg/apis/externaldns/validation"
	"sigs.k8s.io/external-dns/plan"
	"sigs.k8s.io/external-dns/provider"
	"sigs.k8s.io/external-dns/provider/inmemory"
	"sigs.k8s.io/external-dns/registry"
	"sigs.k8s.io/external-dns/registry/noop"
	"sigs.k8s.io/external-dns/registry/txt"
	"sigs.k8s.io/external-dns/source"
	"sigs.k8s.io/external-dns/source/annotations"
	"sigs.k8s.io/external-dns/source/wrappers"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(args []string) error {
	cfg := externaldns.NewConfig()
	if err := cfg.ParseFlags(args); err != nil {
		return fmt.Errorf("flag parsing error: %w", err)
	}
	if cfg.Provider != "inmemory" {
		return fmt.Errorf("--provider=%s: this build of external-dns has only the inmemory provider", cfg.Provider)
	}
	// Flags upstream's main acts on and this one does not wire: refused
	// rather than silently ignored.
	switch {
	case cfg.DryRun:
		return errors.New("--dry-run is not supported by this build")
	case cfg.WebhookServer:
		return errors.New("--webhook-server is not supported by this build")
	case len(cfg.EmitEvents) > 0:
		return errors.New("--emit-events is not supported by this build")
	}
	if err := validation.ValidateConfig(cfg); err != nil {
		return fmt.Errorf("config validation failed: %w", err)
	}
	annotations.SetAnnotationPrefix(cfg.AnnotationPrefix)
	if cfg.LogFormat == "json" {
		log.SetFormatter(&log.JSONFormatter{})
	}
	level, err := log.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	log.SetLevel(level)
	if level < log.DebugLevel {
		klog.SetLogger(logr.Discard())
	}
	crlog.SetLogger(logr.Discard())
	log.Info(externaldns.Banner())
	log.Infof("config: %s", cfg)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	sCfg, err := source.NewSourceConfig(cfg)
	if err != nil {
		return err
	}
	src, err := wrappers.Build(ctx, sCfg)
	if err != nil {
		return err
	}
	domainFilter := endpoint.NewDomainFilterWithOptions(
		endpoint.WithDomainFilter(cfg.DomainFilter),
		endpoint.WithDomainExclude(cfg.DomainExclude),
		endpoint.WithRegexDomainFilter(cfg.RegexDomainFilter),
		endpoint.WithRegexDomainExclude(cfg.RegexDomainExclude),
	)
	zone := &lockedProvider{Provider: inmemory.NewInMemoryProvider(
		inmemory.InMemoryInitZones(cfg.InMemoryZones),
		inmemory.InMemoryWithDomain(domainFilter),
		inmemory.InMemoryWithLogging(),
	)}
	var reg registry.Registry
	switch cfg.Registry {
	case externaldns.RegistryTXT:
		reg, err = txt.New(cfg, zone)
	case externaldns.RegistryNoop:
		reg, err = noop.New(cfg, zone)
	default:
		err = fmt.Errorf("--registry=%s: this build has the txt and noop registries only", cfg.Registry)
	}
	if err != nil {
		return err
	}
	policy, ok := plan.Policies[cfg.Policy]
	if !ok {
		return fmt.Errorf("unknown policy: %s", cfg.Policy)
	}
	ctrl := &controller.Controller{
		Source:               src,
		Registry:             reg,
		Policy:               policy,
		Interval:             cfg.Interval,
		DomainFilter:         domainFilter,
		ManagedRecordTypes:   cfg.ManagedDNSRecordTypes,
		ExcludeRecordTypes:   cfg.ExcludeDNSRecordTypes,
		MinEventSyncInterval: cfg.MinEventSyncInterval,
		TXTOwnerOld:          cfg.TXTOwnerOld,
	}

	srv, err := serve(cfg.MetricsAddress, zone)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()

	if cfg.Once {
		return ctrl.RunOnce(ctx)
	}
	if cfg.UpdateEvents {
		src.AddEventHandler(ctx, func() { ctrl.ScheduleRunOnce(time.Now()) })
	}
	ctrl.ScheduleRunOnce(time.Now())
	return ctrl.Run(ctx)
}

// lockedProvider serialises the controller's calls with the HTTP view's
// reads: the inmemory provider's maps have no lock of their own.
type lockedProvider struct {
	provider.Provider
	mu sync.Mutex
}

func (p *lockedProvider) Records(ctx context.Context) ([]*endpoint.Endpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Provider.Records(ctx)
}

func (p *lockedProvider) ApplyChanges(ctx context.Context, changes *plan.Changes) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Provider.ApplyChanges(ctx, changes)
}

// Record is one record of the zone as GET /records shows it.
type Record struct {
	DNSName       string            `json:"dnsName"`
	RecordType    string            `json:"recordType"`
	Targets       []string          `json:"targets"`
	TTL           int64             `json:"ttl,omitempty"`
	SetIdentifier string            `json:"setIdentifier,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// serve starts the HTTP listener. Upstream's default (":7979", every
// interface) is narrowed to loopback: the zone view is for the tests and
// the demo on this machine only.
func serve(addr string, zone *lockedProvider) (*http.Server, error) {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("OK")) })
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.HandleFunc("GET /records", func(w http.ResponseWriter, r *http.Request) {
		eps, err := zone.Records(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out := make([]Record, 0, len(eps))
		for _, ep := range eps {
			targets := slices.Clone([]string(ep.Targets))
			slices.Sort(targets)
			out = append(out, Record{DNSName: ep.DNSName, RecordType: ep.RecordType, Targets: targets,
				TTL: int64(ep.RecordTTL), SetIdentifier: ep.SetIdentifier, Labels: ep.Labels})
		}
		slices.SortFunc(out, func(a, b Record) int {
			return strings.Compare(a.DNSName+" "+a.RecordType+" "+a.SetIdentifier, b.DNSName+" "+b.RecordType+" "+b.SetIdentifier)
		})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-address: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("records server: %v", err)
		}
	}()
	log.Infof("serving /records, /healthz and /metrics on %s", ln.Addr())
	return srv, nil
}
