package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// sampleImage is the image every sample WebApp runs: NGINX's official
// unprivileged build, a real public image that serves HTTP on 8080 as the
// numeric user 101 (so runAsNonRoot admits it), at a pinned release.
var sampleImage = regexp.MustCompile(`^nginxinc/nginx-unprivileged:\d+\.\d+\.\d+-alpine$`)

func checkWebApp(t *testing.T, where string, app *pylonv1alpha1.WebApp) {
	t.Helper()
	images := []string{app.Spec.Image}
	if app.Spec.Canary != nil {
		images = append(images, app.Spec.Canary.Image)
	}
	for _, img := range images {
		if !sampleImage.MatchString(img) {
			t.Errorf("%s: WebApp %s runs %q; samples run a pinned nginxinc/nginx-unprivileged:<x.y.z>-alpine (a public image that serves HTTP as a non-root user)", where, app.Name, img)
		}
	}
	if app.Spec.Port != 0 && app.Spec.Port != 8080 {
		t.Errorf("%s: WebApp %s uses port %d; nginx-unprivileged listens on 8080", where, app.Name, app.Spec.Port)
	}
	if p := app.Spec.ReadinessProbe; p != nil && p.Path != "/" {
		t.Errorf("%s: WebApp %s probes %s; nginx-unprivileged answers 200 only on /", where, app.Name, p.Path)
	}
}

// webApps decodes the WebApps of a multi-document YAML text, strictly, so
// a misspelt field fails.
func webApps(t *testing.T, where, text string) []*pylonv1alpha1.WebApp {
	t.Helper()
	var out []*pylonv1alpha1.WebApp
	for _, doc := range strings.Split(text, "\n---\n") {
		meta := struct{ Kind string }{}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if meta.Kind != "WebApp" {
			continue
		}
		app := &pylonv1alpha1.WebApp{}
		if err := yaml.UnmarshalStrict([]byte(doc), app); err != nil {
			t.Fatalf("%s: WebApp: %v\n%s", where, err, doc)
		}
		out = append(out, app)
	}
	return out
}

// Every sample WebApp runs a real image; the first sample needs nothing but
// Pylon (TLS Disabled), and the TLS Auto sample names its prerequisites.
func TestSamplesRunARealImage(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "samples", "pylon_*webapp*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("want the WebApp samples in config/samples: %v %v", files, err)
	}
	byFile := map[string][]*pylonv1alpha1.WebApp{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		apps := webApps(t, filepath.Base(f), string(b))
		if len(apps) == 0 {
			t.Errorf("%s: no WebApp", filepath.Base(f))
		}
		for _, a := range apps {
			checkWebApp(t, filepath.Base(f), a)
		}
		byFile[filepath.Base(f)] = apps
	}

	first := byFile["pylon_v1alpha1_webapp.yaml"]
	if len(first) != 1 || first[0].Spec.TLS == nil || first[0].Spec.TLS.Mode != pylonv1alpha1.TLSDisabled {
		t.Errorf("pylon_v1alpha1_webapp.yaml: want one WebApp with tls.mode Disabled (it must run with nothing but Pylon)")
	}
	if len(first) == 1 && first[0].Spec.Exposure != nil && first[0].Spec.Exposure.Class != "" {
		t.Errorf("pylon_v1alpha1_webapp.yaml: names class %q; the first sample uses the installed default class", first[0].Spec.Exposure.Class)
	}
	auto := byFile["pylon_v1alpha1_webapp_tls_auto.yaml"]
	if len(auto) != 1 || auto[0].Spec.TLS == nil || auto[0].Spec.TLS.Mode != pylonv1alpha1.TLSAuto {
		t.Errorf("pylon_v1alpha1_webapp_tls_auto.yaml: want one WebApp with tls.mode Auto")
	}
	text := readDoc(t, "config/samples/pylon_v1alpha1_webapp_tls_auto.yaml")
	for _, want := range []string{"cert-manager", "ClusterIssuer", "APINotInstalled", "NoIssuer"} {
		if !strings.Contains(text, want) {
			t.Errorf("pylon_v1alpha1_webapp_tls_auto.yaml: its comment must name the prerequisite %q", want)
		}
	}
}

// The WebApp the chart's NOTES.txt tells users to save and apply is valid
// and runs the samples' image.
func TestHelmNotesWebAppRuns(t *testing.T) {
	out, stderr, err := runIn(t, tool(t, "helm", helmVersion), "install", "pylon", "charts/pylon", "--namespace", "pylon-system", "--dry-run=client")
	if err != nil {
		t.Fatalf("helm install --dry-run=client: %v\n%s", err, stderr)
	}
	_, notes, ok := strings.Cut(out, "NOTES:")
	if !ok {
		t.Fatalf("no NOTES in the helm output")
	}
	// The indented block from "apiVersion: pylon.dev/v1alpha1" to the first
	// blank line is the WebApp.
	start := strings.Index(notes, "apiVersion: pylon.dev/v1alpha1")
	if start < 0 {
		t.Fatalf("NOTES.txt shows no WebApp:\n%s", notes)
	}
	lineStart := strings.LastIndex(notes[:start], "\n") + 1
	block := notes[lineStart:]
	if end := strings.Index(block, "\n\n"); end >= 0 {
		block = block[:end]
	}
	apps := webApps(t, "NOTES.txt", block)
	if len(apps) != 1 {
		t.Fatalf("NOTES.txt: want one WebApp, got %d:\n%s", len(apps), block)
	}
	checkWebApp(t, "NOTES.txt", apps[0])
	if apps[0].Spec.TLS == nil || apps[0].Spec.TLS.Mode != pylonv1alpha1.TLSDisabled {
		t.Errorf("NOTES.txt: the first WebApp should have tls.mode Disabled: it needs nothing but Pylon")
	}
}

// The WebApps in the README's and API docs' YAML examples run the samples'
// image too: a reader copies them.
func TestDocExamplesRunARealImage(t *testing.T) {
	for _, f := range []string{"README.md", "docs/api.md", "docs/canary.md"} {
		for _, b := range codeBlocks(readDoc(t, f)) {
			if b.lang != "yaml" {
				continue
			}
			text := strings.Join(b.lines, "\n")
			if strings.Contains(text, "kind: WebApp") {
				for _, a := range webApps(t, f, text) {
					checkWebApp(t, f, a)
				}
				continue
			}
			for _, l := range b.lines {
				k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
				if ok && k == "image" && !sampleImage.MatchString(strings.TrimSpace(v)) {
					t.Errorf("%s (block at line %d): image %s; examples run a pinned nginxinc/nginx-unprivileged:<x.y.z>-alpine", f, b.line, strings.TrimSpace(v))
				}
			}
		}
	}
}
