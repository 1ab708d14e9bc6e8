//go:build tools

// Package tools pins opm so `go build github.com/operator-framework/operator-registry/cmd/opm`
// resolves from this module's go.mod.
package tools

import _ "github.com/operator-framework/operator-registry/cmd/opm"
