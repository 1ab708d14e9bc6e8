package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
	"github.com/pylon-dev/pylon/test/localcluster/fakeissuer"
)

const (
	demoNamespace = "demo"
	demoApp       = "shop"
	demoHost      = "shop.demo.test"
	demoWeight    = 20
	canaryHeader  = "x-release-track"
	stableImage   = "registry.example.com/shop:1.0"
	canaryImage   = "registry.example.com/shop:2.0"
)

// applyDemo creates the demo WebApp and waits until it is Ready.
func applyDemo(ctx context.Context, env *localcluster.Env) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace}}
	if err := env.Client.Create(ctx, ns); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: demoApp, Namespace: demoNamespace},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: stableImage, Port: 8080, Replicas: ptr.To[int32](4), Hostname: demoHost,
			ReadinessProbe: &pylonv1alpha1.ProbeSpec{Path: "/healthz"},
			TLS: &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: &pylonv1alpha1.IssuerReference{
				Name: fakeissuer.IssuerName, Kind: "ClusterIssuer",
			}},
			Canary: &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: demoWeight, HeaderMatch: &pylonv1alpha1.HeaderMatch{Name: canaryHeader, Value: "canary"}},
		},
	}
	if err := env.Client.Create(ctx, app); err != nil {
		return fmt.Errorf("create webapp: %w", err)
	}
	fmt.Printf("==> applied WebApp %s/%s (%s, TLS Auto, canary %s at %d%%); waiting for Ready ...\n", demoNamespace, demoApp, demoHost, canaryImage, demoWeight)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		cur := &pylonv1alpha1.WebApp{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), cur); err == nil {
			if c := meta.FindStatusCondition(cur.Status.Conditions, "Ready"); c != nil && c.Status == metav1.ConditionTrue && cur.Status.ObservedGeneration == cur.Generation {
				fmt.Printf("==> WebApp Ready: %s\n", cur.Status.URL)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("webapp not ready: %w", ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}
