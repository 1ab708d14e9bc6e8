package proxy

import (
	"log/slog"
	"time"
)

// Thin aliases keep the access-log call readable; LogAttrs with typed
// attributes avoids the reflection of key/value pairs on the hot path.
func slogString(k, v string) slog.Attr { return slog.String(k, v) }

func slogInt(k string, v int) slog.Attr { return slog.Int(k, v) }

func slogInt64(k string, v int64) slog.Attr { return slog.Int64(k, v) }

func slogDuration(k string, d time.Duration) slog.Attr {
	return slog.Float64(k+"_ms", float64(d.Microseconds())/1000)
}
