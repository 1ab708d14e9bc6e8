package buildinfo

import (
	"fmt"
	"log/slog"
	"strings"

	"go.uber.org/zap/zapcore"
)

// ParseLogLevel reads a --log-level value (debug, info, warn or error) as
// the level of log/slog and of zap (controller-runtime's logger), so one
// flag sets both loggers of a binary.
func ParseLogLevel(s string) (slog.Level, zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, zapcore.DebugLevel, nil
	case "info", "":
		return slog.LevelInfo, zapcore.InfoLevel, nil
	case "warn", "warning":
		return slog.LevelWarn, zapcore.WarnLevel, nil
	case "error":
		return slog.LevelError, zapcore.ErrorLevel, nil
	}
	return 0, 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}
