package localcluster

import (
	"os"
	"path/filepath"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

var loggerOnce sync.Once

// setLogger sends the in-process controllers' logs (simulated node, fake
// issuer) to logs/harness.log, not to the test output.
func (c *Cluster) setLogger() {
	loggerOnce.Do(func() {
		path := c.logPath("harness")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return
		}
		ctrl.SetLogger(zap.New(zap.WriteTo(f)))
	})
}
