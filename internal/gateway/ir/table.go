package ir

import (
	"net"
	"strconv"
)

// Protocol is the application protocol a listener port speaks.
type Protocol string

const (
	// ProtocolHTTP is cleartext HTTP/1.1 (and h2c upgrades, if the proxy allows).
	ProtocolHTTP Protocol = "HTTP"
	// ProtocolHTTPS terminates TLS and then speaks HTTP.
	ProtocolHTTPS Protocol = "HTTPS"
)

// Table is the whole routing configuration of one data plane instance.
type Table struct {
	// Listeners sorted by address, then port; (address, port) is unique.
	Listeners []*Listener `json:"listeners,omitempty"`

	byKey     map[ListenerKey]*Listener
	finalized bool
}

// ListenerKey is where a listener accepts connections: a port on the data
// plane's shared address (Address ""), or on an address of its own.
type ListenerKey struct {
	Address string
	Port    int32
}

// String is "port" for the shared address and "address:port" otherwise.
func (k ListenerKey) String() string {
	if k.Address == "" {
		return strconv.Itoa(int(k.Port))
	}
	return net.JoinHostPort(k.Address, strconv.Itoa(int(k.Port)))
}

// Listener is one local port on one address. Several Gateway listeners
// (and Ingresses) that share it are merged into one Listener; their
// hostnames keep them apart.
type Listener struct {
	// Address is the IP the listener binds; "" is the data plane's shared
	// address. A Gateway with an address of its own gets listeners there.
	Address  string   `json:"address,omitempty"`
	Port     int32    `json:"port"`
	Protocol Protocol `json:"protocol"`
	// Certificates for HTTPS, selected by SNI (see Certificate).
	Certificates []*Certificate `json:"certificates,omitempty"`
	// VirtualHosts sorted by hostname class (exact, wildcard by length, catch-all).
	VirtualHosts []*VirtualHost `json:"virtualHosts,omitempty"`

	exact     map[string]*VirtualHost
	wildcard  map[string]*VirtualHost // keyed by suffix including the leading dot
	catchAll  *VirtualHost
	certExact map[string]*Certificate
	certWild  map[string]*Certificate
	certDef   *Certificate
}

// Certificate is a set of key pairs served for one SNI pattern.
type Certificate struct {
	// Hostname is an exact name, a "*."-wildcard, or "" for the default
	// certificate used when no SNI pattern matches.
	Hostname string `json:"hostname"`
	// Pairs holds one or more PEM key pairs (e.g. RSA and ECDSA).
	Pairs []KeyPair `json:"pairs"`
}

// KeyPair is a PEM certificate chain and private key copied from a Secret.
// The key material is not printed by the golden dumps (json:"-").
type KeyPair struct {
	// Source is "namespace/name" of the Secret, for logs and debugging.
	Source  string `json:"source"`
	CertPEM []byte `json:"-"`
	KeyPEM  []byte `json:"-"`
}

// Key is the listener's (address, port).
func (l *Listener) Key() ListenerKey { return ListenerKey{Address: l.Address, Port: l.Port} }

// VirtualHost is the set of routes for one effective hostname within one
// listener hostname (the listener-isolation group).
type VirtualHost struct {
	// Hostname is exact ("foo.example.com"), wildcard ("*.example.com"), or ""
	// for any host.
	Hostname string `json:"hostname"`
	// ListenerHostname is the hostname of the listener(s) that own this host:
	// a request is only ever served by routes attached to the most specific
	// listener whose hostname matches it ("listener isolation").
	ListenerHostname string `json:"listenerHostname"`
	// Listeners names the source listeners, e.g.
	// "Gateway/ns/name/section" or "Ingress", sorted.
	Listeners []string `json:"listeners"`
	// Routes attached with exactly this hostname, in precedence order after
	// Finalize.
	Routes []*Route `json:"routes,omitempty"`
	// Owner, when set, is the only namespace whose routes serve this host:
	// routes of less specific hosts (wildcards, the catch-all) from other
	// namespaces do not join its chain, so a wildcard of one namespace
	// never takes paths of a hostname another namespace owns.
	Owner string `json:"owner,omitempty"`

	// chain is Routes followed by the routes of less specific hosts of the
	// same listener group that also cover this host: the full ordered list a
	// request scans.
	chain []*Route
}
