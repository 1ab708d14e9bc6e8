package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pylon-dev/pylon/test/testenv"
)

// placeholderImage matches images that cannot be pulled: kubebuilder's
// "controller" stand-in and documentation registries.
var placeholderImage = regexp.MustCompile(`^controller(:|$)|example\.(com|org|test)/`)

// runnable says what keeps the workloads in objs from running: a container
// without an image, with a placeholder image, or without a command. Pylon's
// one image holds two binaries and its entrypoint is /manager, so a
// container without a command would run the manager whatever it is meant to
// be. "" when every workload is runnable.
func runnable(objs []*unstructured.Unstructured) string {
	var problems []string
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment", "DaemonSet", "StatefulSet":
		default:
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(containers) == 0 {
			problems = append(problems, fmt.Sprintf("%s %s has no containers", o.GetKind(), o.GetName()))
		}
		for _, c := range containers {
			c, _ := c.(map[string]any)
			name, _ := c["name"].(string)
			image, _ := c["image"].(string)
			command, _ := c["command"].([]any)
			where := fmt.Sprintf("%s %s container %q", o.GetKind(), o.GetName(), name)
			switch {
			case image == "":
				problems = append(problems, where+" has no image")
			case placeholderImage.MatchString(image):
				problems = append(problems, where+" has a placeholder image "+image)
			}
			if len(command) == 0 {
				problems = append(problems, where+" has no command (the image's entrypoint is /manager)")
			}
		}
	}
	return strings.Join(problems, "; ")
}

var kustomizeMention = regexp.MustCompile("(?:apply -k|kubectl kustomize|kustomize build) +`?([A-Za-z0-9_./-]+)")

// kustomizeDirsInDocs are the kustomize directories the README and docs tell
// users to apply or build.
func kustomizeDirsInDocs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot(t), "README.md"))
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range kustomizeMention.FindAllStringSubmatch(string(b), -1) {
			dir := strings.TrimSuffix(m[1], "/")
			if dir == "-" || strings.HasPrefix(dir, "$") || strings.Contains(dir, "<") {
				continue
			}
			seen[dir] = true
		}
	}
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Every kustomize directory the docs name (plus config/default for `make
// deploy` and the installer overlay behind dist/install.yaml) builds, and
// every Deployment in it has an image and a command; so do the committed
// dist/install.yaml and the chart with default values.
func TestInstalledWorkloadsHaveImageAndCommand(t *testing.T) {
	kustomize := tool(t, "kustomize", kustomizeVersion)
	dirs := kustomizeDirsInDocs(t)
	if !contains(dirs, "config/gateway") {
		t.Errorf("no doc mentions `kubectl apply -k config/gateway` any more; found %v (update this test if that is intended)", dirs)
	}
	for _, d := range []string{"config/default", "hack/packaging/installer"} {
		if !contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, dir := range dirs {
		out, stderr, err := runIn(t, kustomize, "build", dir)
		if err != nil {
			t.Errorf("kustomize build %s (named in the docs): %v\n%s", dir, err, stderr)
			continue
		}
		objs := parseManifests(t, out)
		if len(ofKind(objs, "Deployment")) == 0 && (dir == "config/gateway" || dir == "config/default") {
			t.Errorf("kustomize build %s: no Deployment", dir)
		}
		if p := runnable(objs); p != "" {
			t.Errorf("kustomize build %s: %s", dir, p)
		}
	}
	dist := readDoc(t, "dist/install.yaml")
	if p := runnable(parseManifests(t, dist)); p != "" {
		t.Errorf("dist/install.yaml: %s", p)
	}
	out, stderr, err := runIn(t, tool(t, "helm", helmVersion), "template", "pylon", "charts/pylon", "--namespace", "pylon-system")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr)
	}
	if p := runnable(parseManifests(t, out)); p != "" {
		t.Errorf("helm template charts/pylon: %s", p)
	}
}

// The check itself catches what `kubectl apply -k config/gateway` used to
// give: a gateway with a placeholder image and no command.
func TestRunnableCatchesAMissingCommand(t *testing.T) {
	objs := parseManifests(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: pylon-gateway}
spec:
  template:
    spec:
      containers:
      - {name: gateway, image: ghcr.io/pylon-dev/pylon:latest}
      - {name: other, image: "controller:latest", command: [/manager]}
`)
	p := runnable(objs)
	for _, want := range []string{`container "gateway" has no command`, `container "other" has a placeholder image`} {
		if !strings.Contains(p, want) {
			t.Errorf("runnable: %q, want it to contain %q", p, want)
		}
	}
}

func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseManifests(t *testing.T, b string) []*unstructured.Unstructured {
	t.Helper()
	return testenv.ParseManifests(t, []byte(b))
}
