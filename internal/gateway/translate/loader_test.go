package translate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// testOptions is a pseudo-object ("kind: TestOptions") in golden inputs.
type testOptions struct {
	metav1.TypeMeta `json:",inline"`
	// NoDefaultAddresses turns off the default address every Gateway gets.
	NoDefaultAddresses bool `json:"noDefaultAddresses"`
	GatewayAddresses   []struct {
		Namespace string                      `json:"namespace"`
		Name      string                      `json:"name"`
		Addresses []gwv1.GatewayStatusAddress `json:"addresses"`
	} `json:"gatewayAddresses"`
	// OwnAddresses turns on addresses of their own (GatewayBindAddresses).
	OwnAddresses         bool `json:"ownAddresses"`
	GatewayBindAddresses []struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		Address   string `json:"address"`
	} `json:"gatewayBindAddresses"`
	IngressLoadBalancer []networkingv1.IngressLoadBalancerIngress `json:"ingressLoadBalancer"`
	CRDBundleVersion    string                                    `json:"crdBundleVersion"`
}

// loadSnapshot parses a multi-document YAML file into a Snapshot. Secrets
// may use stringData; the values "@cert" and "@key" are replaced by the
// test key pair in testdata/tls.
func loadSnapshot(path string) (*Snapshot, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	certPEM, err := os.ReadFile(filepath.Join("testdata", "tls", "cert.pem"))
	if err != nil {
		return nil, fmt.Errorf("read test cert: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join("testdata", "tls", "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("read test key: %w", err)
	}
	s := &Snapshot{}
	var opts testOptions
	for i, doc := range bytes.Split(raw, []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s doc %d: %w", path, i, err)
		}
		var target any
		switch tm.Kind {
		case "GatewayClass":
			o := &gwv1.GatewayClass{}
			s.GatewayClasses, target = append(s.GatewayClasses, o), o
		case "Gateway":
			o := &gwv1.Gateway{}
			s.Gateways, target = append(s.Gateways, o), o
		case "ListenerSet":
			o := &gwv1.ListenerSet{}
			s.ListenerSets, target = append(s.ListenerSets, o), o
		case "HTTPRoute":
			o := &gwv1.HTTPRoute{}
			s.HTTPRoutes, target = append(s.HTTPRoutes, o), o
		case "ReferenceGrant":
			o := &gwv1beta1.ReferenceGrant{}
			s.ReferenceGrants, target = append(s.ReferenceGrants, o), o
		case "Namespace":
			o := &corev1.Namespace{}
			s.Namespaces, target = append(s.Namespaces, o), o
		case "Ingress":
			o := &networkingv1.Ingress{}
			s.Ingresses, target = append(s.Ingresses, o), o
		case "IngressClass":
			o := &networkingv1.IngressClass{}
			s.IngressClasses, target = append(s.IngressClasses, o), o
		case "Service":
			o := &corev1.Service{}
			s.Services, target = append(s.Services, o), o
		case "EndpointSlice":
			o := &discoveryv1.EndpointSlice{}
			s.EndpointSlices, target = append(s.EndpointSlices, o), o
		case "Secret":
			o := &corev1.Secret{}
			s.Secrets, target = append(s.Secrets, o), o
		case "HostnameClaim":
			o := &pylonv1alpha1.HostnameClaim{}
			s.HostnameClaims, target = append(s.HostnameClaims, o), o
		case "TestOptions":
			target = &opts
		default:
			return nil, fmt.Errorf("%s doc %d: unknown kind %q", path, i, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			return nil, fmt.Errorf("%s doc %d (%s): %w", path, i, tm.Kind, err)
		}
	}
	for _, sec := range s.Secrets {
		for k, v := range sec.StringData {
			switch v {
			case "@cert":
				v = string(certPEM)
			case "@key":
				v = string(keyPEM)
			}
			if sec.Data == nil {
				sec.Data = map[string][]byte{}
			}
			sec.Data[k] = []byte(v)
		}
		sec.StringData = nil
	}
	return s, applyOptions(s, opts)
}

func applyOptions(s *Snapshot, opts testOptions) error {
	s.Options.CRDBundleVersion = opts.CRDBundleVersion
	s.Options.IngressLoadBalancer = opts.IngressLoadBalancer
	s.Options.GatewayAddresses = map[types.NamespacedName][]gwv1.GatewayStatusAddress{}
	if !opts.NoDefaultAddresses {
		for _, gw := range s.Gateways {
			s.Options.GatewayAddresses[nn(gw.Namespace, gw.Name)] = []gwv1.GatewayStatusAddress{{Type: ptrTo(gwv1.IPAddressType), Value: "192.0.2.10"}}
		}
	}
	for _, a := range opts.GatewayAddresses {
		if strings.TrimSpace(a.Name) == "" {
			return fmt.Errorf("gatewayAddresses entry without name")
		}
		s.Options.GatewayAddresses[nn(a.Namespace, a.Name)] = a.Addresses
	}
	if opts.OwnAddresses {
		s.Options.GatewayBindAddresses = map[types.NamespacedName]string{}
		for _, a := range opts.GatewayBindAddresses {
			s.Options.GatewayBindAddresses[nn(a.Namespace, a.Name)] = a.Address
		}
	}
	return nil
}
