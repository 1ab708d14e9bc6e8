package ir

import (
	"encoding/json"
	"regexp"
	"time"
)

// PathMatchType says how Route.Path is compared with the request path.
type PathMatchType string

// Path match types, in precedence order.
const (
	PathExact  PathMatchType = "Exact"
	PathPrefix PathMatchType = "PathPrefix"
	PathRegex  PathMatchType = "RegularExpression"
)

// ValueMatchType says how a header or query value is compared.
type ValueMatchType string

// Value match types.
const (
	ValueExact ValueMatchType = "Exact"
	ValueRegex ValueMatchType = "RegularExpression"
)

// Source identifies the object and position a Route was compiled from. It is
// part of the precedence order (creation time, namespace/name, rule, match).
type Source struct {
	Kind              string    `json:"kind"`
	Namespace         string    `json:"namespace"`
	Name              string    `json:"name"`
	CreationTimestamp time.Time `json:"creationTimestamp"`
	Rule              int       `json:"rule"`
	Match             int       `json:"match"`
}

// Route is one compiled match of one rule for one effective hostname. Routes
// of the same rule share their Action.
type Route struct {
	Source Source `json:"source"`
	// Listener is the source listener this entry was attached through; it is
	// always listed in its VirtualHost's Listeners.
	Listener string       `json:"listener"`
	Path     PathMatch    `json:"path"`
	Method   string       `json:"method,omitempty"`
	Headers  []ValueMatch `json:"headers,omitempty"`
	Query    []ValueMatch `json:"query,omitempty"`
	Action   *Action      `json:"action"`
}

// PathMatch matches the request path. Prefix values carry no trailing slash
// (except "/" itself) because prefixes match whole path elements.
type PathMatch struct {
	Type  PathMatchType `json:"type"`
	Value string        `json:"value"`

	re *regexp.Regexp
}

// ValueMatch matches a header (name compared case-insensitively, stored in
// canonical MIME form) or a query parameter (name compared exactly).
type ValueMatch struct {
	Type  ValueMatchType `json:"type"`
	Name  string         `json:"name"`
	Value string         `json:"value"`

	re *regexp.Regexp
}

// Action is what happens to a request once a Route matched it. Exactly one
// of Redirect, DirectResponse or Backends decides the response: a Redirect
// answers at once; otherwise if DirectResponse is set it answers at once;
// otherwise one backend is chosen by weight.
type Action struct {
	RequestHeaders  *HeaderModifier `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`
	Redirect        *Redirect       `json:"redirect,omitempty"`
	Rewrite         *Rewrite        `json:"rewrite,omitempty"`
	Timeouts        Timeouts        `json:"timeouts,omitzero"`
	// DirectResponse is set when no backend can ever serve the rule, e.g. it
	// has no backendRefs or all weights are zero (500 per Gateway API).
	DirectResponse *DirectResponse `json:"directResponse,omitempty"`
	Backends       []*Backend      `json:"backends,omitempty"`
	// TotalWeight is the sum of Backends[*].Weight, invalid ones included:
	// their share is answered with 500.
	TotalWeight int64 `json:"totalWeight,omitempty"`
}

// DirectResponse is a fixed status answered without contacting a backend.
type DirectResponse struct {
	Status int    `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// HeaderModifier edits headers: Set replaces, Add appends, Remove deletes.
// Names are canonical MIME header keys.
type HeaderModifier struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// Header is one header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PathModifierType says how a redirect or rewrite changes the path.
type PathModifierType string

// Path modifier types.
const (
	// ReplaceFullPath replaces the whole path with Value.
	ReplaceFullPath PathModifierType = "ReplaceFullPath"
	// ReplacePrefixMatch replaces the matched prefix (Route.Path.Value) with Value.
	ReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier rewrites the request path.
type PathModifier struct {
	Type  PathModifierType `json:"type"`
	Value string           `json:"value"`
}

// Redirect answers with a redirect. Empty fields keep the request's value;
// a nil Port means "derive from the scheme" per Gateway API.
type Redirect struct {
	Scheme     string        `json:"scheme,omitempty"`
	Hostname   string        `json:"hostname,omitempty"`
	Port       *int32        `json:"port,omitempty"`
	Path       *PathModifier `json:"path,omitempty"`
	StatusCode int           `json:"statusCode"`
}

// Rewrite changes the request before it is forwarded.
type Rewrite struct {
	Hostname string        `json:"hostname,omitempty"`
	Path     *PathModifier `json:"path,omitempty"`
}

// Timeouts bound the whole request and each backend attempt; zero means none.
type Timeouts struct {
	Request        time.Duration `json:"request,omitempty"`
	BackendRequest time.Duration `json:"backendRequest,omitempty"`
}

// Backend is one weighted destination of a rule.
type Backend struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Port is the Service port.
	Port   int32 `json:"port"`
	Weight int32 `json:"weight"`
	// AppProtocol is the Service port's appProtocol, e.g. "kubernetes.io/h2c".
	AppProtocol string `json:"appProtocol,omitempty"`
	// Invalid means requests given to this backend's share get a 500.
	Invalid       bool   `json:"invalid,omitempty"`
	InvalidReason string `json:"invalidReason,omitempty"`
	// Endpoints sorted by address and port. Empty (or none ready) means 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// Endpoint is one resolved address of a backend.
type Endpoint struct {
	Address     string `json:"address"`
	Port        int32  `json:"port"`
	Ready       bool   `json:"ready"`
	Serving     bool   `json:"serving"`
	Terminating bool   `json:"terminating,omitempty"`
}

// MarshalJSON prints durations as Go duration strings ("30s") so dumps stay
// readable; zero values are omitted.
func (t Timeouts) MarshalJSON() ([]byte, error) {
	m := map[string]string{}
	if t.Request != 0 {
		m["request"] = t.Request.String()
	}
	if t.BackendRequest != 0 {
		m["backendRequest"] = t.BackendRequest.String()
	}
	return json.Marshal(m)
}
