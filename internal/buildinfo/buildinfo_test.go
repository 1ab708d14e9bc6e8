package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStampedValuesWin(t *testing.T) {
	i := Get("v1.2.3", "abc123")
	if i.Version != "v1.2.3" || i.Revision != "abc123" || i.GoVersion != runtime.Version() {
		t.Fatalf("Get = %+v", i)
	}
}

func TestFallbackToRecordedBuild(t *testing.T) {
	i := Info{Version: "dev"}
	fromBuild(&i, &debug.BuildInfo{
		Main:     debug.Module{Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "deadbeef"}, {Key: "vcs.modified", Value: "true"}},
	})
	if i.Version != "v0.4.0" || i.Revision != "deadbeef-dirty" {
		t.Fatalf("fromBuild = %+v", i)
	}
	i = Info{}
	fromBuild(&i, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if i.Version != "" || i.Revision != "" {
		t.Fatalf("a (devel) build must not name a version: %+v", i)
	}
	if g := Get("", ""); g.Version == "" || g.Revision == "" {
		t.Fatalf("Get leaves a field empty: %+v", g)
	}
}

func TestString(t *testing.T) {
	s := Info{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26.8"}.String("pylon-gateway")
	for _, want := range []string{"pylon-gateway\n", "version: v1.2.3\n", "commit: abc\n", "go: go1.26.8 "} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, lacks %q", s, want)
		}
	}
}

func TestCollector(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Info{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26.8"}.Collector())
	want := `# HELP pylon_build_info Always 1; the labels say which build is running (version, VCS revision, Go version).
# TYPE pylon_build_info gauge
pylon_build_info{goversion="go1.26.8",revision="abc",version="v1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricBuildInfo); err != nil {
		t.Fatal(err)
	}
}
