package localcluster

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/test/testenv"
)

// TestCertManagerPinsAgree: the binary name the harness looks for, the
// Makefile's pin, the tools module's requirement and the cert-manager API
// module Pylon builds against name one release, so the CRDs installed and
// the controllers run always match.
func TestCertManagerPinsAgree(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := map[string]*regexp.Regexp{
		"hack/make/certmanager.mk":      regexp.MustCompile(`(?m)^CERT_MANAGER_VERSION \?= (\S+)$`),
		"hack/tools/certmanager/go.mod": regexp.MustCompile(`(?m)^\s*github.com/cert-manager/cert-manager (\S+)$`),
		"go.mod":                        regexp.MustCompile(`(?m)^\s*github.com/cert-manager/cert-manager (\S+)$`),
	}
	for file, re := range want {
		m := re.FindStringSubmatch(read(file))
		if m == nil {
			t.Errorf("%s: no cert-manager version found", file)
			continue
		}
		if m[1] != CertManagerVersion {
			t.Errorf("%s pins cert-manager %s, the harness runs %s (CertManagerVersion)", file, m[1], CertManagerVersion)
		}
	}
	if !strings.HasSuffix(certManagerBin(root), "cert-manager-"+CertManagerVersion) {
		t.Errorf("binary path %s does not carry the version", certManagerBin(root))
	}
}
