package testenv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The kubectl that `make kubectl` builds (and `make demo` prints) talks to a
// real kube-apiserver, and `kubectl version` parses both sides: each binary
// reports the release it was built from, stamped in by the Makefile. Run
// under `make test-k8s-oldest`, the server is the oldest supported release.
func TestKubectlVersion(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := filepath.Join(root, "bin", "k8s", KubernetesVersion, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl is not built: run `make kubectl`: %v", err)
	}
	dir, err := AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	wantServer, err := AssetsVersion()
	if err != nil {
		t.Fatal(err)
	}
	// bin/k8s/<version> holds that release: the stamp and the directory agree.
	if base := filepath.Base(dir); regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(base) && base != "v"+wantServer.String() {
		t.Fatalf("%s/kube-apiserver reports v%s, but its directory names %s", dir, wantServer, base)
	}

	env, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop envtest: %v", err)
		}
	})
	user, err := env.env.AddUser(envtest.User{Name: "kubectl-version", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	kubeconfigPath := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(kubectl, "version", "--output=json", "--kubeconfig="+kubeconfigPath)
	// kubectl caches discovery under $HOME/.kube: keep it in the test's directory.
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl version: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		// e.g. the skew warning when the server is the oldest supported release.
		t.Logf("kubectl version stderr: %s", stderr.String())
	}
	type info struct {
		Major, Minor, GitVersion, GitTreeState string
	}
	var got struct {
		ClientVersion *info `json:"clientVersion"`
		ServerVersion *info `json:"serverVersion"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("kubectl version -o json: %v\n%s", err, stdout.String())
	}
	if got.ClientVersion == nil || got.ServerVersion == nil {
		t.Fatalf("kubectl version -o json lacks a client or server version:\n%s", stdout.String())
	}
	check := func(side string, i *info, want *version.Version) {
		t.Helper()
		v, err := version.ParseSemantic(i.GitVersion)
		if err != nil {
			t.Errorf("%s gitVersion %q is not a semantic version: %v", side, i.GitVersion, err)
			return
		}
		if !v.EqualTo(want) {
			t.Errorf("%s gitVersion is %s, want v%s", side, i.GitVersion, want)
		}
		// Major and Minor are what older clients read: they must agree with gitVersion.
		if i.Major != strconv.FormatUint(uint64(v.Major()), 10) || i.Minor != strconv.FormatUint(uint64(v.Minor()), 10) {
			t.Errorf("%s major/minor %q/%q do not match gitVersion %s", side, i.Major, i.Minor, i.GitVersion)
		}
		if i.GitTreeState != "clean" {
			t.Errorf("%s gitTreeState is %q, want clean", side, i.GitTreeState)
		}
	}
	check("client", got.ClientVersion, version.MustParseSemantic(KubernetesVersion))
	check("server", got.ServerVersion, wantServer)
	t.Logf("kubectl %s against kube-apiserver %s", got.ClientVersion.GitVersion, got.ServerVersion.GitVersion)
}
