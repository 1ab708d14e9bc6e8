package testenv

import (
	"context"
	"errors"
	"os"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// SetLogger makes controller-runtime log errors only, or everything when
// PYLON_TEST_VERBOSE is set.
func SetLogger() {
	level := zapcore.ErrorLevel
	if os.Getenv("PYLON_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
}

// Manager is a controller-runtime manager running against an Env.
type Manager struct {
	ctrl.Manager
	cancel context.CancelFunc
	done   chan error
}

// StartManager creates a manager on e, with metrics and health probes off
// (adjust may change further options), lets setup register controllers,
// starts it and waits for its caches to sync.
func (e *Env) StartManager(setup func(context.Context, ctrl.Manager) error, adjust ...func(*ctrl.Options)) (*Manager, error) {
	opts := ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	}
	for _, f := range adjust {
		f(&opts)
	}
	mgr, err := ctrl.NewManager(e.Config, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := setup(ctx, mgr); err != nil {
		cancel()
		return nil, err
	}
	m := &Manager{Manager: mgr, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, errors.Join(errors.New("manager caches did not sync"), m.Stop())
	}
	return m, nil
}

// Stop stops the manager and returns the error it stopped with.
func (m *Manager) Stop() error {
	m.cancel()
	return <-m.done
}
