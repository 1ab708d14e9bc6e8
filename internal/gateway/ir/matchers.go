package ir

import (
	"fmt"
	"net/textproto"
	"regexp"
	"strings"
)

// NewPathMatch compiles a path match. Prefix values are normalised so that
// "/foo/" and "/foo" behave the same: prefixes match whole path elements.
func NewPathMatch(t PathMatchType, value string) (PathMatch, error) {
	switch t {
	case PathExact:
		if !strings.HasPrefix(value, "/") {
			return PathMatch{}, fmt.Errorf("path %q must start with /", value)
		}
		return PathMatch{Type: t, Value: value}, nil
	case PathPrefix:
		if !strings.HasPrefix(value, "/") {
			return PathMatch{}, fmt.Errorf("path prefix %q must start with /", value)
		}
		if len(value) > 1 {
			value = strings.TrimRight(value, "/")
			if value == "" {
				value = "/"
			}
		}
		return PathMatch{Type: t, Value: value}, nil
	case PathRegex:
		re, err := anchored(value)
		if err != nil {
			return PathMatch{}, err
		}
		return PathMatch{Type: t, Value: value, re: re}, nil
	default:
		return PathMatch{}, fmt.Errorf("unsupported path match type %q", t)
	}
}

// NewHeaderMatch compiles a header match; the name is stored canonically so
// the lookup in http.Header needs no allocation.
func NewHeaderMatch(t ValueMatchType, name, value string) (ValueMatch, error) {
	if name == "" {
		return ValueMatch{}, fmt.Errorf("header name must not be empty")
	}
	return newValueMatch(t, textproto.CanonicalMIMEHeaderKey(name), value)
}

// NewQueryMatch compiles a query parameter match; names are case-sensitive.
func NewQueryMatch(t ValueMatchType, name, value string) (ValueMatch, error) {
	if name == "" {
		return ValueMatch{}, fmt.Errorf("query parameter name must not be empty")
	}
	return newValueMatch(t, name, value)
}

func newValueMatch(t ValueMatchType, name, value string) (ValueMatch, error) {
	switch t {
	case ValueExact:
		return ValueMatch{Type: t, Name: name, Value: value}, nil
	case ValueRegex:
		re, err := anchored(value)
		if err != nil {
			return ValueMatch{}, err
		}
		return ValueMatch{Type: t, Name: name, Value: value, re: re}, nil
	default:
		return ValueMatch{}, fmt.Errorf("unsupported value match type %q", t)
	}
}

// anchored compiles an RE2 expression that must match the whole input, the
// convention of Envoy-based implementations, so users get the same result.
func anchored(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", expr, err)
	}
	return re, nil
}

func (p *PathMatch) matches(path string) bool {
	switch p.Type {
	case PathExact:
		return path == p.Value
	case PathPrefix:
		return prefixMatches(p.Value, path)
	case PathRegex:
		return p.re != nil && p.re.MatchString(path)
	}
	return false
}

// prefixMatches implements element-wise prefix matching: "/foo" matches
// "/foo", "/foo/" and "/foo/bar" but not "/foobar".
func prefixMatches(prefix, path string) bool {
	if prefix == "/" {
		return strings.HasPrefix(path, "/")
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

func (v *ValueMatch) matchesValue(s string) bool {
	if v.Type == ValueRegex {
		return v.re != nil && v.re.MatchString(s)
	}
	return s == v.Value
}

// Overlaps reports whether some request path matches both p and q. A
// regular expression is assumed to overlap anything: the answer is used to
// warn, and a false "no" would hide a shadowed route.
func (p PathMatch) Overlaps(q PathMatch) bool {
	switch {
	case p.Type == PathRegex || q.Type == PathRegex:
		return true
	case p.Type == PathExact && q.Type == PathExact:
		return p.Value == q.Value
	case p.Type == PathExact:
		return prefixMatches(q.Value, p.Value)
	case q.Type == PathExact:
		return prefixMatches(p.Value, q.Value)
	default:
		return prefixMatches(p.Value, q.Value) || prefixMatches(q.Value, p.Value)
	}
}
