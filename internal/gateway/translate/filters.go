package translate

import (
	"fmt"
	"net/http"
	"net/textproto"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// compileFilters turns a rule's filters into an Action. Unsupported filter
// types invalidate the rule: skipping them would silently change what the
// user asked for (e.g. drop an auth step).
func compileFilters(filters []gwv1.HTTPRouteFilter) (*ir.Action, gwv1.RouteConditionReason, error) {
	a := &ir.Action{}
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	for i, f := range filters {
		if seen[f.Type] {
			return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: filter %s is repeated", i, f.Type)
		}
		seen[f.Type] = true
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier == nil {
				return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: requestHeaderModifier is missing", i)
			}
			a.RequestHeaders = headerModifier(f.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier == nil {
				return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: responseHeaderModifier is missing", i)
			}
			a.ResponseHeaders = headerModifier(f.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			r, err := redirect(f.RequestRedirect)
			if err != nil {
				return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: %w", i, err)
			}
			a.Redirect = r
		case gwv1.HTTPRouteFilterURLRewrite:
			r, err := rewrite(f.URLRewrite)
			if err != nil {
				return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: %w", i, err)
			}
			a.Rewrite = r
		default:
			return nil, gwv1.RouteReasonUnsupportedValue, fmt.Errorf("filters[%d]: filter type %q is not supported", i, f.Type)
		}
	}
	if a.Redirect != nil && a.Rewrite != nil {
		return nil, gwv1.RouteReasonIncompatibleFilters, fmt.Errorf("RequestRedirect and URLRewrite cannot be combined")
	}
	return a, "", nil
}

func headerModifier(f *gwv1.HTTPHeaderFilter) *ir.HeaderModifier {
	m := &ir.HeaderModifier{}
	for _, h := range f.Set {
		m.Set = append(m.Set, ir.Header{Name: textproto.CanonicalMIMEHeaderKey(string(h.Name)), Value: h.Value})
	}
	for _, h := range f.Add {
		m.Add = append(m.Add, ir.Header{Name: textproto.CanonicalMIMEHeaderKey(string(h.Name)), Value: h.Value})
	}
	for _, h := range f.Remove {
		m.Remove = append(m.Remove, textproto.CanonicalMIMEHeaderKey(h))
	}
	return m
}

func pathModifier(p *gwv1.HTTPPathModifier) (*ir.PathModifier, error) {
	if p == nil {
		return nil, nil
	}
	switch p.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil {
			return nil, fmt.Errorf("path.replaceFullPath is missing")
		}
		return &ir.PathModifier{Type: ir.ReplaceFullPath, Value: *p.ReplaceFullPath}, nil
	case gwv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return nil, fmt.Errorf("path.replacePrefixMatch is missing")
		}
		return &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: *p.ReplacePrefixMatch}, nil
	default:
		return nil, fmt.Errorf("path modifier type %q is not supported", p.Type)
	}
}

func redirect(f *gwv1.HTTPRequestRedirectFilter) (*ir.Redirect, error) {
	if f == nil {
		return nil, fmt.Errorf("requestRedirect is missing")
	}
	r := &ir.Redirect{StatusCode: http.StatusFound}
	if f.StatusCode != nil {
		switch *f.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			r.StatusCode = *f.StatusCode
		default:
			return nil, fmt.Errorf("redirect status code %d is not supported", *f.StatusCode)
		}
	}
	if f.Scheme != nil {
		switch *f.Scheme {
		case "http", "https":
			r.Scheme = *f.Scheme
		default:
			return nil, fmt.Errorf("redirect scheme %q is not supported", *f.Scheme)
		}
	}
	if f.Hostname != nil {
		r.Hostname = string(*f.Hostname)
	}
	if f.Port != nil {
		r.Port = ptrTo(*f.Port)
	}
	var err error
	if r.Path, err = pathModifier(f.Path); err != nil {
		return nil, err
	}
	return r, nil
}

func rewrite(f *gwv1.HTTPURLRewriteFilter) (*ir.Rewrite, error) {
	if f == nil {
		return nil, fmt.Errorf("urlRewrite is missing")
	}
	r := &ir.Rewrite{}
	if f.Hostname != nil {
		r.Hostname = string(*f.Hostname)
	}
	var err error
	if r.Path, err = pathModifier(f.Path); err != nil {
		return nil, err
	}
	return r, nil
}
