package ir

import "strings"

// IsWildcard reports whether h is a "*."-prefixed wildcard hostname.
func IsWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// HostnameMatches reports whether the concrete host matches pattern: exact
// equality, "*.suffix" (one or more labels in front of the suffix), or ""
// (anything).
func HostnameMatches(pattern, host string) bool {
	switch {
	case pattern == "":
		return true
	case IsWildcard(pattern):
		suffix := pattern[1:] // ".example.com"
		return len(host) > len(suffix) && strings.HasSuffix(host, suffix) && host[0] != '.'
	default:
		return pattern == host
	}
}

// PatternCovers reports whether every host matched by inner is also matched
// by outer.
func PatternCovers(outer, inner string) bool {
	switch {
	case outer == "":
		return true
	case inner == "":
		return false
	case IsWildcard(inner):
		if !IsWildcard(outer) {
			return false
		}
		return inner == outer || strings.HasSuffix(inner, outer[1:])
	default:
		return HostnameMatches(outer, inner)
	}
}

// normalizeHost strips a port and a trailing dot and lower-cases the host.
// It allocates only when the host has upper-case letters.
func normalizeHost(host string) string {
	if strings.HasPrefix(host, "[") { // IPv6 literal
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[:i+1]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	for i := 0; i < len(host); i++ {
		if c := host[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(host)
		}
	}
	return host
}
