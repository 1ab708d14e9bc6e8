package buildinfo

import (
	"log/slog"
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestParseLogLevel(t *testing.T) {
	for in, want := range map[string]struct {
		s slog.Level
		z zapcore.Level
	}{
		"debug": {slog.LevelDebug, zapcore.DebugLevel}, "info": {slog.LevelInfo, zapcore.InfoLevel}, "": {slog.LevelInfo, zapcore.InfoLevel},
		"WARN": {slog.LevelWarn, zapcore.WarnLevel}, "warning": {slog.LevelWarn, zapcore.WarnLevel}, "error": {slog.LevelError, zapcore.ErrorLevel},
	} {
		s, z, err := ParseLogLevel(in)
		if err != nil || s != want.s || z != want.z {
			t.Errorf("ParseLogLevel(%q) = %v, %v, %v; want %v, %v", in, s, z, err, want.s, want.z)
		}
	}
	for _, bad := range []string{"verbose", "5", "trace"} {
		if _, _, err := ParseLogLevel(bad); err == nil {
			t.Errorf("ParseLogLevel(%q) accepted", bad)
		}
	}
}
