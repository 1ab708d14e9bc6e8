package watch

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// watchedTypes are the objects whose changes trigger a rebuild. The
// Gateway API ones are only watched when their CRDs are installed.
func watchedTypes(gatewayAPI bool) []client.Object {
	objs := []client.Object{
		&corev1.Namespace{}, &corev1.Service{}, &corev1.Secret{},
		&discoveryv1.EndpointSlice{}, &networkingv1.Ingress{}, &networkingv1.IngressClass{},
	}
	if gatewayAPI {
		objs = append(objs, gatewayAPITypes()...)
	}
	return objs
}

// gatewayAPITypes are the Gateway API objects the translator reads.
func gatewayAPITypes() []client.Object {
	return []client.Object{&gwv1.GatewayClass{}, &gwv1.Gateway{}, &gwv1.ListenerSet{},
		&gwv1.HTTPRoute{}, &gwv1beta1.ReferenceGrant{}}
}

// list copies every item of one type from the cache into pointers.
func list[L any, T any](ctx context.Context, r client.Reader, l L, items func(L) []T) ([]*T, error) {
	cl, ok := any(l).(client.ObjectList)
	if !ok {
		return nil, fmt.Errorf("%T is not an object list", l)
	}
	if err := r.List(ctx, cl); err != nil {
		return nil, fmt.Errorf("list %T: %w", l, err)
	}
	src := items(l)
	out := make([]*T, len(src))
	for i := range src {
		out[i] = &src[i]
	}
	return out, nil
}

// snapshot reads the whole world from the cache. Objects are copies (List
// deep-copies), so the translator may keep references.
func (b *Builder) snapshot(ctx context.Context) (*translate.Snapshot, error) {
	r := b.Reader
	s := &translate.Snapshot{}
	var err error
	if s.Namespaces, err = list(ctx, r, &corev1.NamespaceList{}, func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items }); err != nil {
		return nil, err
	}
	if s.Services, err = list(ctx, r, &corev1.ServiceList{}, func(l *corev1.ServiceList) []corev1.Service { return l.Items }); err != nil {
		return nil, err
	}
	if s.Secrets, err = list(ctx, r, &corev1.SecretList{}, func(l *corev1.SecretList) []corev1.Secret { return l.Items }); err != nil {
		return nil, err
	}
	if s.EndpointSlices, err = list(ctx, r, &discoveryv1.EndpointSliceList{}, func(l *discoveryv1.EndpointSliceList) []discoveryv1.EndpointSlice { return l.Items }); err != nil {
		return nil, err
	}
	if s.Ingresses, err = list(ctx, r, &networkingv1.IngressList{}, func(l *networkingv1.IngressList) []networkingv1.Ingress { return l.Items }); err != nil {
		return nil, err
	}
	if s.IngressClasses, err = list(ctx, r, &networkingv1.IngressClassList{}, func(l *networkingv1.IngressClassList) []networkingv1.IngressClass { return l.Items }); err != nil {
		return nil, err
	}
	if b.gatewayAPI.Load() {
		if s.GatewayClasses, err = list(ctx, r, &gwv1.GatewayClassList{}, func(l *gwv1.GatewayClassList) []gwv1.GatewayClass { return l.Items }); err != nil {
			return nil, err
		}
		if s.Gateways, err = list(ctx, r, &gwv1.GatewayList{}, func(l *gwv1.GatewayList) []gwv1.Gateway { return l.Items }); err != nil {
			return nil, err
		}
		if s.ListenerSets, err = list(ctx, r, &gwv1.ListenerSetList{}, func(l *gwv1.ListenerSetList) []gwv1.ListenerSet { return l.Items }); err != nil {
			return nil, err
		}
		if s.HTTPRoutes, err = list(ctx, r, &gwv1.HTTPRouteList{}, func(l *gwv1.HTTPRouteList) []gwv1.HTTPRoute { return l.Items }); err != nil {
			return nil, err
		}
		if s.ReferenceGrants, err = list(ctx, r, &gwv1beta1.ReferenceGrantList{}, func(l *gwv1beta1.ReferenceGrantList) []gwv1beta1.ReferenceGrant { return l.Items }); err != nil {
			return nil, err
		}
	}
	if b.HostnameClaims {
		if s.HostnameClaims, err = list(ctx, r, &pylonv1alpha1.HostnameClaimList{}, func(l *pylonv1alpha1.HostnameClaimList) []pylonv1alpha1.HostnameClaim { return l.Items }); err != nil {
			return nil, err
		}
	}
	addrs := b.Addresses.resolve(s.Services)
	s.Options.IngressLoadBalancer = ingressAddresses(addrs)
	switch {
	case len(b.Addresses.Pool) > 0:
		s.Options.GatewayBindAddresses = b.Addresses.Pool.Assign(s.GatewayClasses, s.Gateways)
		s.Options.GatewayAddresses = make(map[types.NamespacedName][]gwv1.GatewayStatusAddress, len(s.Options.GatewayBindAddresses))
		for gw, ip := range s.Options.GatewayBindAddresses {
			s.Options.GatewayAddresses[gw] = gatewayAddresses([]string{ip})
		}
	case len(addrs) > 0:
		// One data plane serves every Gateway of our classes on the same
		// addresses; the translator ignores Gateways of other classes.
		s.Options.GatewayAddresses = make(map[types.NamespacedName][]gwv1.GatewayStatusAddress, len(s.Gateways))
		ga := gatewayAddresses(addrs)
		for _, g := range s.Gateways {
			s.Options.GatewayAddresses[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = ga
		}
	}
	s.Options.IngressHTTPPort, s.Options.IngressHTTPSPort = b.IngressHTTPPort, b.IngressHTTPSPort
	return s, nil
}

// GatewayAPIServed reports whether the API server serves the Gateway API
// (its Gateway kind at the version this data plane speaks).
func GatewayAPIServed(m meta.RESTMapper) bool {
	_, err := m.RESTMapping(schema.GroupKind{Group: gwv1.GroupName, Kind: "Gateway"}, gwv1.GroupVersion.Version)
	return err == nil
}

// HostnameClaimsServed reports whether the API server serves Pylon's
// HostnameClaim kind.
func HostnameClaimsServed(m meta.RESTMapper) bool {
	_, err := m.RESTMapping(schema.GroupKind{Group: pylonv1alpha1.GroupVersion.Group, Kind: "HostnameClaim"}, pylonv1alpha1.GroupVersion.Version)
	return err == nil
}
