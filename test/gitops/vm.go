package gitops

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Argo CD's health statuses: the only values a health check may return.
const (
	HealthHealthy     = "Healthy"
	HealthProgressing = "Progressing"
	HealthDegraded    = "Degraded"
	HealthSuspended   = "Suspended"
	HealthMissing     = "Missing"
	HealthUnknown     = "Unknown"
)

var healthStatuses = map[string]bool{
	HealthHealthy: true, HealthProgressing: true, HealthDegraded: true,
	HealthSuspended: true, HealthMissing: true, HealthUnknown: true,
}

// Health is what an Argo CD health check returns.
type Health struct {
	Status  string
	Message string
}

// scriptTimeout bounds one run, as Argo CD bounds its Lua VM: a script that
// loops must fail rather than hang the test.
const scriptTimeout = 5 * time.Second

// NewVM returns a Lua state with only the libraries Argo CD opens for
// resource customizations: package, base and table. Argo CD also opens a
// reduced os library; health checks have no use for it, so it is left out and
// a script that needs it fails here.
func NewVM() (*lua.LState, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage}, // first: the others register in package.loaded
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			l.Close()
			return nil, fmt.Errorf("open Lua library %q: %w", lib.name, err)
		}
	}
	return l, nil
}

// EvalHealth runs an Argo CD health check on obj (an object's unstructured
// content) and returns its verdict.
func EvalHealth(script string, obj map[string]any) (Health, error) {
	l, err := NewVM()
	if err != nil {
		return Health{}, err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	l.SetContext(ctx)

	v, err := ToLua(l, obj)
	if err != nil {
		return Health{}, err
	}
	l.SetGlobal("obj", v)
	if err := l.DoString(script); err != nil {
		return Health{}, fmt.Errorf("run health check: %w", err)
	}
	t, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Health{}, fmt.Errorf("health check returned %s, want a table", l.Get(-1).Type())
	}
	h := Health{Status: field(t, "status"), Message: field(t, "message")}
	if !healthStatuses[h.Status] {
		return h, fmt.Errorf("health check returned status %q, which Argo CD does not know", h.Status)
	}
	return h, nil
}

func field(t *lua.LTable, name string) string {
	if s, ok := t.RawGetString(name).(lua.LString); ok {
		return string(s)
	}
	return ""
}

// ToLua converts unstructured content to Lua values the way Argo CD decodes
// an object's JSON: objects become tables keyed by name, arrays become
// sequences (index 1 first), all numbers become Lua numbers.
func ToLua(l *lua.LState, v any) (lua.LValue, error) {
	switch v := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case string:
		return lua.LString(v), nil
	case int64:
		return lua.LNumber(v), nil
	case int:
		return lua.LNumber(v), nil
	case int32:
		return lua.LNumber(v), nil
	case float64:
		return lua.LNumber(v), nil
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			lv, err := ToLua(l, e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case []any:
		t := l.NewTable()
		for i, e := range v {
			lv, err := ToLua(l, e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			t.Append(lv)
		}
		return t, nil
	default:
		return nil, fmt.Errorf("cannot convert %T to Lua", v)
	}
}
