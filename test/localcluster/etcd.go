package localcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// StopEtcd stops etcd (SIGTERM, then SIGKILL after 10 s), the fault of an
// etcd outage: kube-apiserver keeps running and answers with errors or
// hangs until etcd is back. The data directory stays as it is.
func (c *Cluster) StopEtcd() error { return c.Etcd.Stop(10 * time.Second) }

// StartEtcd starts etcd again with the same data directory and ports and
// waits until it reports itself healthy (not until kube-apiserver has
// reconnected: that is for the caller to measure).
func (c *Cluster) StartEtcd(ctx context.Context) error {
	if err := c.Etcd.Start(); err != nil {
		return err
	}
	return c.waitEtcd(ctx)
}

// waitEtcd polls etcd's /health until it answers {"health":"true"}.
func (c *Cluster) waitEtcd(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		if last = etcdHealthy(ctx, hc); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd not healthy (log: %s): %w", c.Etcd.LogPath, last)
		case <-c.Etcd.Exited():
			return fmt.Errorf("etcd exited (log: %s)", c.Etcd.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func etcdHealthy(ctx context.Context, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, etcdClientURL+"/health", nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4096))
	if err != nil {
		return err
	}
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("etcd /health answered %d %q: %w", res.StatusCode, body, err)
	}
	if h.Health != "true" {
		return fmt.Errorf("etcd /health answered %d %q", res.StatusCode, body)
	}
	return nil
}
