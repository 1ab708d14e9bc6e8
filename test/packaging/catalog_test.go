package packaging

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
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
