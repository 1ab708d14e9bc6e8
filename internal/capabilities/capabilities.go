package capabilities

import (
	"context"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// API is an optional API Pylon can use.
type API struct {
	// Name is how messages name it.
	Name string
	// GroupVersion and Resources must all be served for the API to count.
	GroupVersion schema.GroupVersion
	Resources    []string
	// Install tells a person what to install.
	Install string
}

// The optional APIs.
var (
	GatewayAPI = API{
		Name:         "Gateway API",
		GroupVersion: schema.GroupVersion{Group: "gateway.networking.k8s.io", Version: "v1"},
		Resources:    []string{"gateways", "httproutes", "listenersets"},
		Install:      "install the Gateway API v1.6 standard-channel CRDs (gateways, httproutes, listenersets)",
	}
	CertManager = API{
		Name:         "cert-manager",
		GroupVersion: schema.GroupVersion{Group: "cert-manager.io", Version: "v1"},
		Resources:    []string{"certificates"},
		Install:      "install cert-manager (its Certificate CRD, cert-manager.io/v1)",
	}
	ExternalDNS = API{
		Name:         "external-dns",
		GroupVersion: schema.GroupVersion{Group: "externaldns.k8s.io", Version: "v1alpha1"},
		Resources:    []string{"dnsendpoints"},
		Install:      "install external-dns' DNSEndpoint CRD (externaldns.k8s.io/v1alpha1)",
	}
	// All lists every optional API.
	All = []API{GatewayAPI, CertManager, ExternalDNS}
)

// NotInstalledMessage says that api is missing and what to install.
func NotInstalledMessage(api API) string {
	return fmt.Sprintf("%s is not installed in this cluster: %s", api.Name, api.Install)
}

// Set knows which APIs are served. It only ever learns that an API became
// present: removing a CRD from a running cluster is not supported.
type Set struct {
	discovery discovery.DiscoveryInterface
	mu        sync.RWMutex
	present   map[string]bool
}

// NewSet returns a Set that asks dc.
func NewSet(dc discovery.DiscoveryInterface) *Set {
	return &Set{discovery: dc, present: map[string]bool{}}
}

// Has reports whether api is served.
func (s *Set) Has(api API) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.present[api.Name]
}

// Refresh asks the API server which APIs are served and returns those that
// were not before.
func (s *Set) Refresh(_ context.Context) ([]API, error) {
	var added []API
	for _, api := range All {
		if s.Has(api) {
			continue
		}
		ok, err := s.served(api)
		if err != nil {
			return added, err
		}
		if ok {
			s.mu.Lock()
			s.present[api.Name] = true
			s.mu.Unlock()
			added = append(added, api)
		}
	}
	return added, nil
}

func (s *Set) served(api API) (bool, error) {
	list, err := s.discovery.ServerResourcesForGroupVersion(api.GroupVersion.String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", api.GroupVersion, err)
	}
	for _, want := range api.Resources {
		if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == want }) {
			return false, nil
		}
	}
	return true, nil
}

// ForCRD returns the API a CRD of that name belongs to.
func ForCRD(crdName string) (API, bool) {
	for _, api := range All {
		for _, r := range api.Resources {
			if crdName == r+"."+api.GroupVersion.Group {
				return api, true
			}
		}
	}
	return API{}, false
}
