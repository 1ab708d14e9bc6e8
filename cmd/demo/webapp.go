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
)

const (
	demoNamespace = "demo"
	demoApp       = "shop"
	demoClass     = "demo"
	demoHost      = "shop.demo.test"
	demoWeight    = 20
	canaryHeader  = "x-release-track"
	stableImage   = "registry.example.com/shop:1.0"
	canaryImage   = "registry.example.com/shop:2.0"
)

// applyDemo creates the demo WebApp and waits until it is Ready.
func applyDemo(ctx context.Context, env *localcluster.Env) error {
	// The app team's namespace enforces the restricted Pod Security
	// Standard, as a hardened cluster's would: Pylon's Pods pass it.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	if err := env.Client.Create(ctx, ns); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	// This cluster lets namespace editors write HTTPRoutes and
	// ListenerSets (aggregated into the built-in "edit" role), as many
	// shared clusters do; WebApps and Ingresses they may write anyway. A
	// second team can so try to take the demo's hostname, and Pylon keeps
	// it the WebApp's.
	routes := localcluster.RouteEditorRole()
	if err := env.Client.Create(ctx, routes); err != nil {
		return fmt.Errorf("create cluster role: %w", err)
	}
	// The platform team's side: a class on the bundled gateway whose
	// certificates come from the local cluster's issuer.
	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: demoClass},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "pylon", Namespace: localcluster.SystemNamespace, HTTPListener: "http"},
			TLS: &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{
				Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer", Group: "cert-manager.io",
			}},
		},
	}
	if env.ExternalDNS != nil { // the real external-dns publishes the class's DNSEndpoints
		class.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSEndpoint, TTL: 60}
	}
	if err := env.Client.Create(ctx, class); err != nil {
		return fmt.Errorf("create exposure class: %w", err)
	}
	// The app team's side: one WebApp whose canary walks 5% → 10% → 20%
	// while the gateway's figures for it stay in bounds.
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: demoApp, Namespace: demoNamespace},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: stableImage, Port: 8080, Replicas: ptr.To[int32](4), Hostname: demoHost,
			Exposure:       &pylonv1alpha1.ExposureSpec{Class: demoClass},
			ReadinessProbe: &pylonv1alpha1.ProbeSpec{Path: "/healthz"},
			TLS:            &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto},
			Canary: &pylonv1alpha1.CanarySpec{
				Image: canaryImage, Weight: demoWeight, HeaderMatch: &pylonv1alpha1.HeaderMatch{Name: canaryHeader, Value: "canary"},
				Analysis: &pylonv1alpha1.CanaryAnalysis{Steps: []int32{5, 10}, StepDuration: &metav1.Duration{Duration: 10 * time.Second}, MinRequests: 20},
			},
		},
	}
	if err := env.Client.Create(ctx, app); err != nil {
		return fmt.Errorf("create webapp: %w", err)
	}
	fmt.Printf("==> applied ExposureClass %s and WebApp %s/%s (%s, TLS Auto, canary %s analysed in steps 5%% → 10%% → %d%%); waiting for Ready ...\n", demoClass, demoNamespace, demoApp, demoHost, canaryImage, demoWeight)
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
