package resources

import (
	"net/netip"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// external-dns reads its annotations under this prefix since v0.22 and under
// the alpha prefix before; Pylon writes both so either release works.
var externalDNSPrefixes = []string{"external-dns.kubernetes.io/", "external-dns.alpha.kubernetes.io/"}

// routeAnnotations are the annotations of the route object (HTTPRoute or
// Ingress): external-dns' hostname and TTL when the class asks for them.
func routeAnnotations(e Exposure) map[string]string {
	if e.dnsMode() != pylonv1alpha1.DNSExternalDNS {
		return nil
	}
	out := map[string]string{}
	for _, p := range externalDNSPrefixes {
		out[p+"hostname"] = e.Hostname
		out[p+"ttl"] = strconv.FormatInt(e.dnsTTL(), 10)
	}
	return out
}

// MakeDNSEndpoint builds the DNSEndpoint of a class in DNSEndpoint mode,
// once the address the hostname must point at is known.
func MakeDNSEndpoint(app *pylonv1alpha1.WebApp, e Exposure) *externaldnsv1alpha1.DNSEndpoint {
	if e.routeType() == "" || e.routeType() == pylonv1alpha1.ExposureClusterLocal ||
		e.dnsMode() != pylonv1alpha1.DNSEndpoint || !e.APIs.ExternalDNS || len(e.DNSTargets) == 0 {
		return nil
	}
	byType := map[string][]string{}
	for _, t := range e.DNSTargets {
		byType[recordType(t)] = append(byType[recordType(t)], t)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	d := &externaldnsv1alpha1.DNSEndpoint{
		TypeMeta:   metav1.TypeMeta{APIVersion: externaldnsv1alpha1.GroupVersion.String(), Kind: "DNSEndpoint"},
		ObjectMeta: objectMeta(app, names.Route(app)),
	}
	for _, t := range types {
		targets := byType[t]
		sort.Strings(targets)
		d.Spec.Endpoints = append(d.Spec.Endpoints, &externaldnsv1alpha1.Endpoint{
			DNSName: e.Hostname, RecordType: t, Targets: targets, RecordTTL: e.dnsTTL(),
		})
	}
	return d
}

// recordType is A, AAAA or CNAME for an address or host name.
func recordType(target string) string {
	a, err := netip.ParseAddr(target)
	switch {
	case err != nil:
		return "CNAME"
	case a.Is4():
		return "A"
	default:
		return "AAAA"
	}
}
