package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/echo"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// showSplit sends a batch of HTTPS requests through the gateway every two
// seconds and prints how they were split, until ctx ends.
func showSplit(ctx context.Context, env *localcluster.Env) error {
	pool := x509.NewCertPool()
	pool.AddCert(env.CA.Cert)
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort(localcluster.GatewayAddress, "443"))
		},
	}}
	const batch = 200
	for {
		counts, failed := map[string]int{}, 0
		for range batch {
			img, err := fetchImage(ctx, c)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failed++
				continue
			}
			counts[img]++
		}
		// Whatever did not come from the stable image came from the canary,
		// whichever image it runs now.
		stable := counts[stableImage]
		canary := batch - failed - stable
		fmt.Printf("%s  stable %3d%% %-50s canary %3d%% %-25s failed %-3d %s\n", time.Now().Format("15:04:05"),
			100*stable/batch, strings.Repeat("█", stable/4), 100*canary/batch, strings.Repeat("█", canary/8), failed, canaryState(ctx, env))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

// canaryState says what status.canary says: the effective weight and, with
// analysis, the phase and step.
func canaryState(ctx context.Context, env *localcluster.Env) string {
	app := &pylonv1alpha1.WebApp{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: demoApp}, app); err != nil || app.Status.Canary == nil {
		return ""
	}
	c := app.Status.Canary
	out := fmt.Sprintf("status: weight %d%% (%s)", c.Weight, c.WeightReason)
	if c.Phase != "" {
		out += fmt.Sprintf(", %s step %d/%d", c.Phase, c.Step, c.Steps)
	}
	return out
}

func fetchImage(ctx context.Context, c *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+demoHost+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var e echo.Response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil {
		return "", err
	}
	return e.Image, nil
}
