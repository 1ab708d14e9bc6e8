package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// The platform side: a Gateway with an HTTP listener, an ExposureClass of
// type Gateway over it with a cert-manager issuer, and a ClusterLocal
// class. WebApps spread over a fixed set of namespaces.
const (
	infraNS     = "bench-infra"
	gatewayName = "web"
	publicClass = "bench-public"
	localClass  = "bench-local"
	namespaces  = 10
)

func appNamespace(i int) string { return fmt.Sprintf("bench-%d", i%namespaces) }

func createPlatform(ctx context.Context, c client.Client) error {
	objs := make([]client.Object, 0, 1+namespaces+3)
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: infraNS}})
	for i := range namespaces {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNamespace(i)}})
	}
	objs = append(objs,
		&gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: infraNS, Name: gatewayName},
			Spec: gwv1.GatewaySpec{GatewayClassName: "example",
				Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}},
		},
		&pylonv1alpha1.ExposureClass{
			ObjectMeta: metav1.ObjectMeta{Name: publicClass},
			Spec: pylonv1alpha1.ExposureClassSpec{
				Type:    pylonv1alpha1.ExposureGateway,
				Gateway: &pylonv1alpha1.GatewayReference{Name: gatewayName, Namespace: infraNS, HTTPListener: "http"},
				TLS:     &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"}},
			},
		},
		&pylonv1alpha1.ExposureClass{
			ObjectMeta: metav1.ObjectMeta{Name: localClass},
			Spec:       pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureClusterLocal},
		},
	)
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// newWebApp is WebApp i of the mix: even ones are public with TLS Auto
// (Certificate, ListenerSet, redirect route), i%4==1 public without TLS
// and with a canary at 10%, i%4==3 ClusterLocal. So half have TLS Auto on
// the Gateway class and a quarter have canaries.
func newWebApp(i int) *pylonv1alpha1.WebApp {
	name := fmt.Sprintf("app-%d", i)
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: appNamespace(i), Name: name},
		Spec:       pylonv1alpha1.WebAppSpec{Image: "registry.example.com/" + name + ":1.0.0", Port: 8080},
	}
	switch i % 4 {
	case 0, 2:
		app.Spec.Hostname = name + ".apps.example.com"
		app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: publicClass}
		app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}
	case 1:
		app.Spec.Hostname = name + ".apps.example.com"
		app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: publicClass}
		app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSDisabled}
		app.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: "registry.example.com/" + name + ":1.1.0", Weight: 10}
	case 3:
		app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: localClass}
	}
	return app
}
