package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The File-Based Catalog passes `opm validate`, and `opm render` reads the
// package, channel and bundle from it.
func TestCatalogValidates(t *testing.T) {
	opmBin := opm(t)
	run(t, opmBin, "validate", "catalog")
	out := string(run(t, opmBin, "render", "catalog", "--output", "yaml"))
	g := NewWithT(t)
	g.Expect(out).To(ContainSubstring("schema: olm.package"))
	g.Expect(out).To(ContainSubstring("schema: olm.channel"))
	g.Expect(out).To(ContainSubstring("schema: olm.bundle"))
	g.Expect(strings.Count(out, "name: pylon.v")).To(BeNumerically(">=", 2), "the channel lists the bundle")
}

// catalog-template.yaml is an opm basic template (what `opm alpha
// render-template basic` reads: bundles by image only) and catalog/ is its
// rendering: the same channels, one rendered bundle per bundle image.
func TestCatalogIsTheTemplateRendered(t *testing.T) {
	root := repoRoot(t)
	g := NewWithT(t)
	b, err := os.ReadFile(filepath.Join(root, "catalog-template.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var tpl struct {
		Schema  string           `json:"schema"`
		Entries []map[string]any `json:"entries"`
	}
	g.Expect(yaml.UnmarshalStrict(b, &tpl)).To(Succeed())
	g.Expect(tpl.Schema).To(Equal("olm.template.basic"))
	var images []any
	var channels []map[string]any
	for _, e := range tpl.Entries {
		switch e["schema"] {
		case "olm.bundle":
			g.Expect(e).To(HaveLen(2), "opm's basic template takes a bundle as schema and image only: %v", e)
			images = append(images, e["image"])
		case "olm.channel":
			channels = append(channels, e)
		}
	}
	rendered := parse(t, run(t, opm(t), "render", "catalog", "--output", "yaml"))
	var renderedImages []any
	var renderedChannels []map[string]any
	for _, o := range rendered {
		switch o.Object["schema"] {
		case "olm.bundle":
			renderedImages = append(renderedImages, o.Object["image"])
		case "olm.channel":
			renderedChannels = append(renderedChannels, o.Object)
		}
	}
	g.Expect(renderedImages).To(ConsistOf(images...))
	g.Expect(renderedChannels).To(ConsistOf(channels), "catalog/ channels are the template's")
}

// packagingRun is what a release's `make packaging` starts from: config/default
// rendered to def, an empty out directory, and gen, which runs
// hack/packaging with the repository as --root and out as --out.
func packagingRun(t *testing.T) (def, out string, gen func(args ...string)) {
	t.Helper()
	root := repoRoot(t)
	tmp := t.TempDir()
	def = filepath.Join(tmp, "default.yaml")
	writeTemp(t, def, kustomizeBuild(t, "config/default"))
	out = filepath.Join(tmp, "out")
	return def, out, func(args ...string) {
		run(t, "go", append([]string{"run", "./hack/packaging"}, append(args, "--root", root, "--out", out)...)...)
	}
}

// A release forms an upgrade graph: generating the next version's bundle and
// catalog (as `make packaging BUNDLE_VERSION=0.2.0` would) adds it to the
// template's channel replacing 0.1.0 and skipping everything since, keeps
// 0.1.0's rendered bundle, and the result passes opm validate.
func TestCatalogUpgradeGraph(t *testing.T) {
	def, out, gen := packagingRun(t)
	gen("bundle", "--input", def, "--version", "0.2.0", "--channel", "candidate-v0", "--image", "ghcr.io/pylon-dev/pylon:v0.2.0", "--created-at", "2027-01-01T00:00:00Z")
	gen("catalog", "--bundle-image", "ghcr.io/pylon-dev/pylon-bundle:v0.2.0", "--channel", "candidate-v0")
	run(t, opm(t), "validate", filepath.Join(out, "catalog"))

	g := NewWithT(t)
	objs := parse(t, run(t, opm(t), "render", filepath.Join(out, "catalog"), "--output", "yaml"))
	var entries []any
	var bundles []string
	for _, o := range objs {
		switch o.Object["schema"] {
		case "olm.channel":
			if o.Object["name"] == "candidate-v0" {
				entries, _, _ = unstructured.NestedSlice(o.Object, "entries")
			}
		case "olm.bundle":
			bundles = append(bundles, o.Object["name"].(string))
		}
	}
	g.Expect(bundles).To(ConsistOf("pylon.v0.1.0", "pylon.v0.2.0"))
	g.Expect(entries).To(ConsistOf(
		map[string]any{"name": "pylon.v0.1.0"},
		map[string]any{"name": "pylon.v0.2.0", "replaces": "pylon.v0.1.0", "skipRange": ">=0.1.0 <0.2.0"},
	))
	// The template now records the release; generating again from it (as
	// verify-packaging does after the release commit) changes nothing.
	first, err := os.ReadFile(filepath.Join(out, "catalog-template.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(first)).To(ContainSubstring("ghcr.io/pylon-dev/pylon-bundle:v0.2.0"))
	before := parse(t, run(t, opm(t), "render", filepath.Join(out, "catalog"), "--output", "yaml"))
	run(t, "go", "run", "./hack/packaging", "catalog", "--bundle-image", "ghcr.io/pylon-dev/pylon-bundle:v0.2.0", "--channel", "candidate-v0", "--root", out, "--out", out)
	again, err := os.ReadFile(filepath.Join(out, "catalog-template.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(again)).To(Equal(string(first)))
	g.Expect(parse(t, run(t, opm(t), "render", filepath.Join(out, "catalog"), "--output", "yaml"))).To(HaveLen(len(before)))
}

// A release pinned by digest (`make packaging BUNDLE_IMG_DIGEST=...` after
// its tag was released) keeps one bundle per version: the template's entry
// for it now names the digest, the catalog has pylon.v0.1.0 once, and opm
// validates it. Any other second image for the version is refused.
func TestCatalogRebuiltRelease(t *testing.T) {
	def, out, gen := packagingRun(t)
	const pinned = "ghcr.io/pylon-dev/pylon-bundle@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	gen("bundle", "--input", def, "--version", "0.1.0", "--channel", "candidate-v0", "--image", "ghcr.io/pylon-dev/pylon:v0.1.0", "--created-at", "2027-01-01T00:00:00Z")
	gen("catalog", "--bundle-image", pinned, "--channel", "candidate-v0")
	run(t, opm(t), "validate", filepath.Join(out, "catalog"))

	g := NewWithT(t)
	b, err := os.ReadFile(filepath.Join(out, "catalog-template.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var tpl struct {
		Entries []map[string]any `json:"entries"`
	}
	g.Expect(yaml.Unmarshal(b, &tpl)).To(Succeed())
	var images []any
	for _, e := range tpl.Entries {
		if e["schema"] == "olm.bundle" {
			images = append(images, e["image"])
		}
	}
	g.Expect(images).To(ConsistOf(pinned), "one bundle entry for the release, now by digest")
	var bundles []string
	for _, o := range parse(t, run(t, opm(t), "render", filepath.Join(out, "catalog"), "--output", "yaml")) {
		if o.Object["schema"] == "olm.bundle" {
			bundles = append(bundles, o.Object["name"].(string)+" "+o.Object["image"].(string))
		}
	}
	g.Expect(bundles).To(ConsistOf("pylon.v0.1.0 " + pinned))

	// From the pinned template, building the release again from its tag,
	// or from another repository, is refused with what to do, and the
	// template is left as it was.
	for _, image := range []string{"ghcr.io/pylon-dev/pylon-bundle:v0.1.0", "quay.io/someone/pylon-bundle@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"} {
		_, stderr, err := runErr(t, "go", "run", "./hack/packaging", "catalog", "--bundle-image", image, "--channel", "candidate-v0", "--root", out, "--out", out)
		g.Expect(err).To(HaveOccurred(), "catalog with %s over the pinned release", image)
		g.Expect(string(stderr)).To(And(ContainSubstring("pylon.v0.1.0 is recorded as "+pinned), ContainSubstring("BUNDLE_IMG_DIGEST")), image)
		after, err := os.ReadFile(filepath.Join(out, "catalog-template.yaml"))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(after)).To(Equal(string(b)), "a refused run leaves the template as it was")
	}
}
