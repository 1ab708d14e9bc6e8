package translate

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// validateListenerSpec checks what a listener can be judged on alone:
// protocol, TLS mode, route kinds and certificate references.
func (t *translator) validateListenerSpec(l *listenerInfo) {
	switch l.protocol {
	case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType:
	default:
		l.accepted = false
		l.acceptedReason = string(gwv1.ListenerReasonUnsupportedProtocol)
		l.acceptedMsg = fmt.Sprintf("protocol %q is not supported; use HTTP or HTTPS", l.protocol)
	}
	t.resolveRouteKinds(l)
	if l.protocol == gwv1.HTTPSProtocolType {
		t.resolveCertificates(l)
	}
}

// resolveRouteKinds fills supportedKinds: HTTPRoute is the only kind this
// data plane serves, and the default when allowedRoutes.kinds is empty.
func (t *translator) resolveRouteKinds(l *listenerInfo) {
	l.kindsOK = true
	httpRoute := gwv1.RouteGroupKind{Group: ptrTo(gwv1.Group(gatewayGroup)), Kind: kindHTTPRoute}
	if l.allowedRoutes == nil || len(l.allowedRoutes.Kinds) == 0 {
		if l.accepted {
			l.supportedKinds = []gwv1.RouteGroupKind{httpRoute}
		}
		return
	}
	var bad []string
	for _, k := range l.allowedRoutes.Kinds {
		group := gatewayGroup
		if k.Group != nil {
			group = string(*k.Group)
		}
		if group == gatewayGroup && k.Kind == kindHTTPRoute {
			if len(l.supportedKinds) == 0 {
				l.supportedKinds = []gwv1.RouteGroupKind{httpRoute}
			}
			continue
		}
		bad = append(bad, group+"/"+string(k.Kind))
	}
	if len(bad) > 0 {
		l.kindsOK = false
		l.kindsMsg = "unsupported route kinds: " + strings.Join(bad, ", ")
	}
}

// resolveCertificates resolves certificateRefs of an HTTPS listener. Any
// bad reference keeps the listener out of the table: serving a partial
// certificate set would silently break some clients.
func (t *translator) resolveCertificates(l *listenerInfo) {
	fail := func(reason gwv1.ListenerConditionReason, format string, a ...any) {
		if l.certsOK {
			l.certsOK = false
			l.certReason = string(reason)
			l.certMsg = fmt.Sprintf(format, a...)
		}
	}
	if l.tls == nil {
		fail(gwv1.ListenerReasonInvalidCertificateRef, "HTTPS listener needs tls.certificateRefs")
		return
	}
	if l.tls.Mode != nil && *l.tls.Mode != gwv1.TLSModeTerminate {
		l.accepted = false
		l.acceptedReason = string(gwv1.ListenerReasonUnsupportedValue)
		l.acceptedMsg = fmt.Sprintf("TLS mode %q is not supported for HTTPS; use Terminate", *l.tls.Mode)
		return
	}
	if len(l.tls.CertificateRefs) == 0 {
		fail(gwv1.ListenerReasonInvalidCertificateRef, "HTTPS listener needs tls.certificateRefs")
		return
	}
	for i, ref := range l.tls.CertificateRefs {
		group, kind := "", kindSecret
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		ns := l.ownerNS
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if group != "" || kind != kindSecret {
			fail(gwv1.ListenerReasonInvalidCertificateRef, "certificateRefs[%d]: %s is not a core Secret", i, groupKind(group, kind))
			continue
		}
		if !t.ix.refAllowed(gatewayGroup, l.ownerKind, l.ownerNS, "", kindSecret, ns, string(ref.Name)) {
			fail(gwv1.ListenerReasonRefNotPermitted, "certificateRefs[%d]: Secret %s/%s is not permitted by any ReferenceGrant", i, ns, ref.Name)
			continue
		}
		sec := t.ix.secrets[nn(ns, string(ref.Name))]
		if sec == nil {
			fail(gwv1.ListenerReasonInvalidCertificateRef, "certificateRefs[%d]: Secret %s/%s not found", i, ns, ref.Name)
			continue
		}
		pair, err := keyPairFromSecret(sec)
		if err != nil {
			fail(gwv1.ListenerReasonInvalidCertificateRef, "certificateRefs[%d]: Secret %s/%s: %v", i, ns, ref.Name, err)
			continue
		}
		l.pairs = append(l.pairs, pair)
	}
	if !l.certsOK {
		l.pairs = nil
	}
}

// keyPairFromSecret checks that a Secret holds a usable PEM key pair.
func keyPairFromSecret(sec *corev1.Secret) (ir.KeyPair, error) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return ir.KeyPair{}, fmt.Errorf("missing %s or %s", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return ir.KeyPair{}, fmt.Errorf("invalid key pair: %w", err)
	}
	return ir.KeyPair{Source: sec.Namespace + "/" + sec.Name, CertPEM: slices.Clone(crt), KeyPEM: slices.Clone(key)}, nil
}

func ptrTo[T any](v T) *T { return &v }
