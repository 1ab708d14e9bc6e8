package packaging

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/pylon-dev/pylon/test/testenv"
)

// What the packages declare as the oldest Kubernetes they install on is
// what `make test` tests: the bundle's minKubeVersion, the chart's
// kubeVersion, the Makefile's KUBERNETES_OLDEST_VERSION (the release
// test-k8s-oldest builds and runs the envtest suites against) and the test
// harness's constant all name the same minor, and the newest is the same in
// the Makefile and the harness.
func TestKubernetesVersionsAgree(t *testing.T) {
	g := NewWithT(t)
	root := repoRoot(t)
	oldest := version.MustParseSemantic(testenv.OldestKubernetesVersion)
	newest := version.MustParseSemantic(testenv.KubernetesVersion)
	g.Expect(oldest.LessThan(newest)).To(BeTrue(), "oldest %s is older than newest %s", oldest, newest)

	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	g.Expect(err).NotTo(HaveOccurred())
	makeVar := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s*\?=\s*(\S+)\s*$`).FindSubmatch(makefile)
		g.Expect(m).NotTo(BeNil(), "Makefile sets %s", name)
		return string(m[1])
	}
	g.Expect(makeVar("KUBERNETES_OLDEST_VERSION")).To(Equal(testenv.OldestKubernetesVersion), "Makefile KUBERNETES_OLDEST_VERSION")
	g.Expect(makeVar("KUBERNETES_VERSION")).To(Equal(testenv.KubernetesVersion), "Makefile KUBERNETES_VERSION")

	// The OLM bundle: minKubeVersion is the oldest minor's .0 release.
	wantMin := version.MajorMinor(oldest.Major(), oldest.Minor()).WithPatch(0)
	g.Expect(loadBundle(t).CSV.Spec.MinKubeVersion).To(Equal(wantMin.String()), "bundle CSV minKubeVersion")

	// The Helm chart: kubeVersion ">=X.Y.0-0" (the -0 admits providers'
	// pre-release-style versions such as v1.34.4-eks-...).
	b, err := os.ReadFile(filepath.Join(root, "charts", "pylon", "Chart.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var chart struct {
		KubeVersion string `json:"kubeVersion"`
	}
	g.Expect(yaml.Unmarshal(b, &chart)).To(Succeed())
	g.Expect(chart.KubeVersion).To(Equal(">="+wantMin.String()+"-0"), "Chart.yaml kubeVersion")

	// The docs name the same range.
	doc, err := os.ReadFile(filepath.Join(root, "docs", "kubernetes-versions.md"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, v := range []string{testenv.OldestKubernetesVersion, testenv.KubernetesVersion} {
		g.Expect(strings.Contains(string(doc), v)).To(BeTrue(), "docs/kubernetes-versions.md names %s", v)
	}
}
