package localcluster

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

var loggerOnce sync.Once

// setLogger sends the in-process controllers' logs (simulated node) to
// logs/harness.log, not to the test output.
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

// DumpTail prints the last n lines of a process log to stderr, so a failed
// test run explains itself in CI.
func DumpTail(path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	fmt.Fprintf(os.Stderr, "==== last %d lines of %s\n%s\n", n, path, strings.Join(lines, "\n"))
}
