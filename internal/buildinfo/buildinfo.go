package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricBuildInfo is a gauge that is always 1, with the labels version,
// revision and goversion: `pylon_build_info * on(...)` joins them to other
// series, and count by (version) shows a rollout.
const MetricBuildInfo = "pylon_build_info"

// Info identifies a build.
type Info struct {
	Version   string
	Revision  string
	GoVersion string
}

// Get returns the build's Info. version and revision are the values
// stamped into package main; empty or "dev" falls back to the module
// version and VCS revision the toolchain recorded (go install, go build in
// a checkout), else "dev" and "unknown".
func Get(version, revision string) Info {
	i := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		fromBuild(&i, bi)
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Revision == "" {
		i.Revision = "unknown"
	}
	return i
}

func fromBuild(i *Info, bi *debug.BuildInfo) {
	if (i.Version == "" || i.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	if i.Revision != "" {
		return
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	i.Revision = rev
}

// String is what --version prints: the program, version, commit and Go
// version (with the platform), one per line.
func (i Info) String(program string) string {
	return fmt.Sprintf("%s\nversion: %s\ncommit: %s\ngo: %s %s/%s\n", program, i.Version, i.Revision, i.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// Collector returns the pylon_build_info gauge of i.
func (i Info) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: MetricBuildInfo,
		Help: "Always 1; the labels say which build is running (version, VCS revision, Go version).",
		ConstLabels: prometheus.Labels{
			"version": i.Version, "revision": i.Revision, "goversion": i.GoVersion,
		},
	}, func() float64 { return 1 })
}
