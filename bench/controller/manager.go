package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/pylon-dev/pylon/internal/controller"
	"github.com/pylon-dev/pylon/test/testenv"
)

// runningManager is the real wiring (controller.Setup) with cmd/manager's
// options, running in this process.
type runningManager struct {
	cancel context.CancelFunc
	done   chan error
}

// startManager starts a manager whose API traffic goes through counter.
// Client-side rate limiting is off, as ctrl.GetConfig leaves it in
// cmd/manager. Controller names may repeat: the benchmark restarts the
// manager in the same process.
func startManager(env *testenv.Env, counter *writeCounter, concurrency int) (*runningManager, error) {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 0
	cfg.WrapTransport = counter.wrap
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Client:                 controller.ClientOptions(),
		Cache:                  controller.CacheOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("new manager: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controller.Setup(ctx, mgr, controller.Options{ClusterDomain: "cluster.local", Concurrency: concurrency}); err != nil {
		cancel()
		return nil, fmt.Errorf("set up controllers: %w", err)
	}
	m := &runningManager{cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	sync, cancelSync := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(sync) {
		return nil, fmt.Errorf("manager caches did not sync: %w", m.stop())
	}
	return m, nil
}

func (m *runningManager) stop() error {
	m.cancel()
	return <-m.done
}
