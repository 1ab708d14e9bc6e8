package install

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/echo"
	"github.com/pylon-dev/pylon/test/localcluster"
	"github.com/pylon-dev/pylon/test/testenv"
)

// Tool pins; keep in step with hack/make/packaging.mk.
const (
	helmVersion      = "v4.3.1"
	kustomizeVersion = "v5.8.2"
)

const (
	// gatewayIP is the address the gateway "Pod" has and the load balancer
	// the test plays reports for the gateway Service: clients dial it.
	gatewayIP = localcluster.GatewayAddress
	managerIP = "10.244.255.1"
	// readyTimeout bounds the whole chain: processes start, the class is
	// accepted, the WebApp's Pods, route and gateway table are ready.
	readyTimeout = 2 * time.Minute
)

// What a user applies from each path is applied as it is; then the manager
// and the gateway run as processes with the command, args, environment and
// ServiceAccount of the installed Deployments (the local cluster cannot run
// images), and a WebApp must serve through them.

// dist/install.yaml, as `kubectl apply --server-side -f dist/install.yaml`.
func TestInstallKubectlInstaller(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(paths.RepoRoot, "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("dist/install.yaml: %v (make build-installer)", err)
	}
	objs := parse(t, b)
	// docs/install.md: on a first install the file's ExposureClass fails,
	// its CRD being new in the same command; applied again, all is there.
	g := NewWithT(t)
	g.Expect(kubectlApply(t, objs)).To(ConsistOf("ExposureClass/pylon"))
	g.Expect(kubectlApply(t, objs)).To(BeEmpty())
	startPylon(t, "pylon-system", "pylon-controller-manager", "pylon-gateway")
	serveWebApp(t, "installer")
	expectMetricsAuthorised(t, "pylon-metrics-reader")
}

// config/default plus config/gateway, as `kubectl apply --server-side -k` of each.
func TestInstallKustomize(t *testing.T) {
	// `kubectl apply -k config/default`, then `kubectl apply -k config/gateway`:
	// the second finds the CRDs the first created.
	for _, dir := range []string{"config/default", "config/gateway"} {
		objs := parse(t, run(t, nil, filepath.Join(paths.RepoRoot, "bin", "kustomize-"+kustomizeVersion), "build", dir))
		NewWithT(t).Expect(kubectlApply(t, objs)).To(BeEmpty(), "kubectl apply -k %s", dir)
	}
	startPylon(t, "pylon-system", "pylon-controller-manager", "pylon-gateway")
	serveWebApp(t, "kustomize")
	expectMetricsAuthorised(t, "pylon-metrics-reader")
}

// charts/pylon with default values: helm install, a WebApp serves, then
// helm upgrade to a chart whose WebApp CRD gained a field, and the API
// server serves that field; helm uninstall keeps the CRDs.
//
// The release is "edge" in namespace "platform", so nothing can lean on
// the names the other paths use.
func TestInstallHelmAndUpgrade(t *testing.T) {
	const release, ns = "edge", "platform"
	g := NewWithT(t)
	ctx := context.Background()
	// As `helm install --create-namespace`.
	createNamespace(t, ns)
	helm(t, "install", "--release", release, "--namespace", ns, "--chart", filepath.Join(paths.RepoRoot, "charts", "pylon"))
	t.Cleanup(func() { cleanupHelm(t, release, ns) })
	startPylon(t, ns, "edge-pylon-controller-manager", "edge-pylon-gateway")
	app := serveWebApp(t, "helm")
	expectMetricsAuthorised(t, "edge-pylon-metrics-reader")

	class := &pylonv1alpha1.ExposureClass{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "pylon"}, class)).To(Succeed())

	// Before the upgrade the API server prunes the field: the check after
	// it can fail.
	const field = "installTestNote"
	before := probeApp(t, app.Namespace, "probe-before", field)
	_, found, _ := unstructured.NestedString(before.Object, "spec", field)
	g.Expect(found).To(BeFalse(), "spec.%s is not in the installed CRD, so the API server must prune it", field)

	chart := chartWithNewField(t, field)
	helm(t, "upgrade", "--release", release, "--namespace", ns, "--chart", chart)

	crd := &apiextensionsv1.CustomResourceDefinition{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "webapps.pylon.dev"}, crd)).To(Succeed())
	g.Expect(crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties).To(HaveKey(field), "helm upgrade updated the CRD")
	g.Expect(crd.Labels).To(HaveKeyWithValue("helm.sh/chart", "pylon-0.1.1-upgrade"))
	var after *unstructured.Unstructured
	g.Eventually(func(g Gomega) {
		after = probeApp(t, app.Namespace, fmt.Sprintf("probe-after-%d", time.Now().UnixNano()%100000), field)
		v, _, _ := unstructured.NestedString(after.Object, "spec", field)
		g.Expect(v).To(Equal("served"), "the API server keeps spec.%s after the upgrade", field)
	}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())

	// The default ExposureClass is applied in place, never re-created, so
	// WebApps never lose their class during an upgrade.
	again := &pylonv1alpha1.ExposureClass{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "pylon"}, again)).To(Succeed())
	g.Expect(again.UID).To(Equal(class.UID), "the ExposureClass was deleted and re-created by the upgrade")
	// And the app still serves through the upgraded installation.
	expectServedBy(t, app)

	// crds.keep (the default): uninstalling leaves the CRDs and so the
	// WebApps.
	stopPylon(t)
	helm(t, "uninstall", "--release", release, "--namespace", ns)
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "webapps.pylon.dev"}, crd)).To(Succeed(), "crds.keep: the CRD survives helm uninstall")
	g.Expect(crd.DeletionTimestamp).To(BeNil())
	g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(app), &pylonv1alpha1.WebApp{})).To(Succeed(), "the WebApp survives helm uninstall")
}

// helm runs the helm CLI (bin/helm-<version>, what users run) as the
// cluster administrator. The arguments are named (--release, --namespace,
// --chart, --set) and turned into the CLI's positional form; the chart's
// kubeVersion is checked against the API server's own (stamped) version.
func helm(t *testing.T, args ...string) {
	t.Helper()
	out, err := helmErr(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("helm %s: %s", args[0], strings.TrimSpace(string(out)))
}

// helmErr is helm that returns the failure (with helm's message) instead.
func helmErr(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helmBin(), helmCLIArgs(t, args)...)
	cmd.Dir = paths.RepoRoot
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.AdminKubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return o.Bytes(), fmt.Errorf("%w: %s", err, strings.TrimSpace(e.String()))
	}
	return o.Bytes(), nil
}

// A release of the chart from before CRDs were templates (they sat in
// crds/, which Helm installs once and never upgrades, and the ExposureClass
// was an ordinary resource) upgrades to this chart with the steps
// docs/install.md gives: without them Helm refuses to take over the CRDs;
// with them the CRDs become the release's, the ExposureClass is kept (never
// deleted and re-created) and the app keeps serving.
func TestInstallHelmUpgradeFromCRDsDir(t *testing.T) {
	const release, ns = "pylon", "pylon-system"
	g := NewWithT(t)
	ctx := context.Background()
	createNamespace(t, ns)
	helm(t, "install", "--release", release, "--namespace", ns, "--chart", chartWithCRDsDir(t))
	t.Cleanup(func() { cleanupHelm(t, release, ns) })
	startPylon(t, ns, "pylon-controller-manager", "pylon-gateway")
	app := serveWebApp(t, "migrate")
	class := &pylonv1alpha1.ExposureClass{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "pylon"}, class)).To(Succeed())

	current := filepath.Join(paths.RepoRoot, "charts", "pylon")
	_, err := helmErr(t, "upgrade", "--release", release, "--namespace", ns, "--chart", current)
	g.Expect(err).To(MatchError(ContainSubstring("invalid ownership metadata")), "Helm takes over CRDs it did not create only when told")

	// docs/install.md, "Upgrading", Helm: from a chart that still had crds/.
	for _, crd := range []string{"webapps.pylon.dev", "exposureclasses.pylon.dev", "hostnameclaims.pylon.dev"} {
		patchMeta(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd,
			map[string]any{"app.kubernetes.io/managed-by": "Helm"},
			map[string]any{"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": ns})
	}
	patchMeta(t, "pylon.dev/v1alpha1", "ExposureClass", "pylon", nil, map[string]any{"helm.sh/resource-policy": "keep"})
	helm(t, "upgrade", "--release", release, "--namespace", ns, "--chart", current)

	crd := &apiextensionsv1.CustomResourceDefinition{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "webapps.pylon.dev"}, crd)).To(Succeed())
	g.Expect(crd.Annotations).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"), "the CRD is the release's now")
	g.Expect(crd.Labels).To(HaveKeyWithValue("app.kubernetes.io/instance", release))
	again := &pylonv1alpha1.ExposureClass{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "pylon"}, again)).To(Succeed())
	g.Expect(again.UID).To(Equal(class.UID), "the ExposureClass was deleted by the upgrade")
	g.Expect(again.Annotations).To(HaveKey("helm.sh/hook"), "the post-upgrade hook applied over it")
	expectServedBy(t, app)
}

// patchMeta merges labels and annotations into an object, as kubectl
// label/annotate --overwrite do.
func patchMeta(t *testing.T, apiVersion, kind, name string, labels, annotations map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetName(name)
	meta := map[string]any{}
	if labels != nil {
		meta["labels"] = labels
	}
	if annotations != nil {
		meta["annotations"] = annotations
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.Client.Patch(context.Background(), u, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("label/annotate %s %s: %v", kind, name, err)
	}
}

// chartWithCRDsDir is charts/pylon laid out as before CRDs were templates:
// the CRDs of config/crd/bases in crds/, the ExposureClass an ordinary
// resource (by the chart's default, not a user value, which helm upgrade
// would carry over), version 0.0.9-crds-dir.
func chartWithCRDsDir(t *testing.T) string {
	t.Helper()
	dst := copyChart(t)
	crds, _ := filepath.Glob(filepath.Join(dst, "templates", "crd-*.yaml"))
	if len(crds) == 0 {
		t.Fatal("no templates/crd-*.yaml in the chart")
	}
	for _, f := range crds {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := filepath.Glob(filepath.Join(paths.RepoRoot, "config", "crd", "bases", "*.yaml"))
	if err := os.MkdirAll(filepath.Join(dst, "crds"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, "crds", filepath.Base(f)), b)
	}
	setChartVersion(t, dst, "0.0.9-crds-dir")
	values := filepath.Join(dst, "values.yaml")
	b, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	nb := bytes.Replace(b, []byte("\n  hook: true\n"), []byte("\n  hook: false\n"), 1)
	if bytes.Equal(nb, b) {
		t.Fatal("values.yaml has no `  hook: true` line")
	}
	writeFile(t, values, nb)
	return dst
}

// chartWithNewField copies charts/pylon into a temporary directory, as the
// next release of the chart: version 0.1.1-upgrade, and the WebApp CRD's
// spec gains an optional string field.
func chartWithNewField(t *testing.T, field string) string {
	t.Helper()
	dst := copyChart(t)
	setChartVersion(t, dst, "0.1.1-upgrade")
	// The CRD template is a header of template lines, then `spec:` and the
	// CRD's spec as YAML (hack/packaging/chart.go), then `{{- end }}`.
	tpl := filepath.Join(dst, "templates", "crd-pylon.dev_webapps.yaml")
	b, err := os.ReadFile(tpl)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\nspec:\n")
	end := strings.LastIndex(text, "{{- end }}")
	if start < 0 || end < start {
		t.Fatalf("%s: no spec: section between the template lines", tpl)
	}
	body := map[string]any{}
	if err := yaml.Unmarshal([]byte(text[start+1:end]), &body); err != nil {
		t.Fatalf("parse the CRD spec of %s: %v", tpl, err)
	}
	versions, _, _ := unstructured.NestedSlice(body, "spec", "versions")
	if len(versions) == 0 {
		t.Fatalf("%s: no versions", tpl)
	}
	v := versions[0].(map[string]any)
	if err := unstructured.SetNestedField(v, map[string]any{"type": "string", "description": "Added by the next release (test/install)."},
		"schema", "openAPIV3Schema", "properties", "spec", "properties", field); err != nil {
		t.Fatal(err)
	}
	versions[0] = v
	if err := unstructured.SetNestedSlice(body, versions, "spec", "versions"); err != nil {
		t.Fatal(err)
	}
	nb, err := yaml.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, tpl, []byte(text[:start+1]+string(nb)+text[end:]))
	return dst
}

// copyChart copies charts/pylon into a temporary directory.
func copyChart(t *testing.T) string {
	t.Helper()
	src := filepath.Join(paths.RepoRoot, "charts", "pylon")
	dst := filepath.Join(t.TempDir(), "pylon")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy chart: %v", err)
	}
	return dst
}

// setChartVersion replaces the chart's `version: 0.1.0`.
func setChartVersion(t *testing.T, dir, version string) {
	t.Helper()
	path := filepath.Join(dir, "Chart.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nb := bytes.Replace(b, []byte("\nversion: 0.1.0\n"), []byte("\nversion: "+version+"\n"), 1)
	if bytes.Equal(nb, b) {
		t.Fatalf("Chart.yaml has no `version: 0.1.0` line to replace")
	}
	writeFile(t, path, nb)
}

// probeApp creates a WebApp with spec.<field> set, as a user with a newer
// manifest would, and returns it as the API server stored it.
func probeApp(t *testing.T, ns, name, field string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pylon.dev/v1alpha1", "kind": "WebApp",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"image": "registry.example.com/probe:1.0", "port": int64(8080), field: "served"},
	}}
	ctx := context.Background()
	NewWithT(t).Expect(cluster.Client.Create(ctx, u)).To(Succeed())
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	NewWithT(t).Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed())
	return got
}

// kubectlApply applies objs as one `kubectl apply --server-side` command
// does: the API's kinds are discovered once, when it starts, and every
// object is applied in order, an object of a kind not served at that moment
// failing ("no matches for kind ..., ensure CRDs are installed first") while
// the others are applied. It returns the objects that failed so. The
// objects are deleted again when the test ends.
func kubectlApply(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	t.Cleanup(func() { deleteAll(t, objs) })
	groups, err := restmapper.GetAPIGroupResources(cluster.Clientset.Discovery())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	var unmapped []string
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if _, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			unmapped = append(unmapped, o.GetKind()+"/"+o.GetName())
			continue
		}
		apply(t, o)
	}
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			waitEstablished(t, o.GetName())
		}
	}
	t.Logf("kubectl apply: %d objects, not mapped: %v", len(objs), unmapped)
	return unmapped
}

func apply(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	err := cluster.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner("kubectl"), client.ForceOwnership)
	if err != nil {
		t.Fatalf("apply %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
}

func waitEstablished(t *testing.T, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(cluster.Client.Get(context.Background(), client.ObjectKey{Name: name}, crd)).To(Succeed())
		established := false
		for _, c := range crd.Status.Conditions {
			established = established || (c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue)
		}
		g.Expect(established).To(BeTrue(), "CRD %s established", name)
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

// deleteAll deletes what applyAll applied and waits until namespaces and
// CRDs are gone, so the next install path starts from an empty cluster.
func deleteAll(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i].DeepCopy()
		if err := cluster.Client.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			t.Errorf("delete %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	for _, o := range objs {
		if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" {
			waitGone(t, o)
		}
	}
}

func waitGone(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(o.GroupVersionKind())
		err := cluster.Client.Get(context.Background(), client.ObjectKeyFromObject(o), cur)
		return apierrors.IsNotFound(err)
	}).WithTimeout(2*time.Minute).WithPolling(500*time.Millisecond).Should(BeTrue(), "%s %s is not gone", o.GetKind(), o.GetName())
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	NewWithT(t).Expect(cluster.Client.Create(context.Background(), ns)).To(Succeed())
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(name)
	t.Cleanup(func() {
		_ = cluster.Client.Delete(context.Background(), ns)
		waitGone(t, u)
	})
}

// cleanupHelm removes what the Helm test leaves by design: the release if
// still there, the kept CRDs and the ExposureClass hook.
func cleanupHelm(t *testing.T, release, ns string) {
	stopPylon(t)
	home := t.TempDir()
	cmd := exec.Command(helmBin(), helmCLIArgs(t, []string{"uninstall", "--release", release, "--namespace", ns})...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.AdminKubeconfig, "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	_ = cmd.Run() // already uninstalled when the test got that far
	ctx := context.Background()
	_ = cluster.Client.Delete(ctx, &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}})
	for _, name := range []string{"webapps.pylon.dev", "exposureclasses.pylon.dev", "hostnameclaims.pylon.dev"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		u.SetName(name)
		if err := cluster.Client.Delete(ctx, u); err == nil {
			waitGone(t, u)
		}
	}
}

// running holds the processes of the current test, so that stopPylon can
// stop them before an uninstall.
var running []*localcluster.Process

// startPylon runs the installed manager and gateway Deployments of ns as
// processes (localcluster.RunDeployment): with the installed command, args
// and env, authenticated as the installed ServiceAccounts. It plays the
// cloud's load balancer too: the gateway Service gets gatewayIP, where the
// gateway process listens.
func startPylon(t *testing.T, ns, manager, gateway string) {
	t.Helper()
	ctx := context.Background()
	entrypoint := imageEntrypoint(t)
	bins := map[string]string{"/manager": paths.ManagerBin, "/gateway": paths.GatewayBin}
	for _, d := range []struct{ name, ip string }{{gateway, gatewayIP}, {manager, managerIP}} {
		p, err := cluster.RunDeployment(ctx, ns, d.name, localcluster.PodProcess{Binaries: bins, Entrypoint: entrypoint, PodIP: d.ip})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s/%s runs: %s", ns, d.name, strings.Join(p.Args[9:], " "))
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		running = append(running, p)
	}
	t.Cleanup(func() { stopPylon(t) })
	svc := &corev1.Service{}
	g := NewWithT(t)
	g.Expect(cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: gateway}, svc)).To(Succeed())
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: gatewayIP}}
	g.Expect(cluster.Client.Status().Update(ctx, svc)).To(Succeed())
}

func stopPylon(t *testing.T) {
	for _, p := range running {
		if err := p.Stop(15 * time.Second); err != nil {
			t.Errorf("stop %s: %v", p.Name, err)
		}
	}
	running = nil
}

// imageEntrypoint is the ENTRYPOINT of the Dockerfile: what the image runs
// for a container without a command.
func imageEntrypoint(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(paths.RepoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var ep []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ENTRYPOINT "); ok {
			if err := json.Unmarshal([]byte(rest), &ep); err != nil {
				t.Fatalf("Dockerfile ENTRYPOINT %s: %v", rest, err)
			}
		}
	}
	return ep
}

// serveWebApp creates a WebApp in a new namespace and waits until it is
// Ready and a request through the gateway is answered by one of its Pods.
func serveWebApp(t *testing.T, path string) *pylonv1alpha1.WebApp {
	t.Helper()
	ns := "app-" + path
	createNamespace(t, ns)
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: "registry.example.com/shop:1.0", Port: 8080, Replicas: ptr.To[int32](2),
			Hostname:       "shop." + path + ".example.com",
			ReadinessProbe: &pylonv1alpha1.ProbeSpec{Path: "/healthz", PeriodSeconds: 1},
		},
	}
	g := NewWithT(t)
	g.Expect(cluster.Client.Create(context.Background(), app)).To(Succeed())
	g.Eventually(func(g Gomega) {
		cur := &pylonv1alpha1.WebApp{}
		g.Expect(cluster.Client.Get(context.Background(), client.ObjectKeyFromObject(app), cur)).To(Succeed())
		c := meta.FindStatusCondition(cur.Status.Conditions, "Ready")
		g.Expect(c).NotTo(BeNil(), "no Ready condition: %v", cur.Status.Conditions)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	}).WithTimeout(readyTimeout).WithPolling(500 * time.Millisecond).Should(Succeed())
	expectServedBy(t, app)
	return app
}

// expectServedBy sends requests for the app's hostname to the gateway's
// address and checks that the answers come from the app's own Pods.
func expectServedBy(t *testing.T, app *pylonv1alpha1.WebApp) {
	t.Helper()
	g := NewWithT(t)
	pods := &corev1.PodList{}
	g.Expect(cluster.Client.List(context.Background(), pods, client.InNamespace(app.Namespace), client.MatchingLabels{"pylon.dev/webapp": app.Name})).To(Succeed())
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	g.Expect(names).NotTo(BeEmpty())
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(gatewayIP, "80"))
		},
	}}
	g.Eventually(func(g Gomega) {
		resp, err := hc.Get("http://" + app.Spec.Hostname + "/who")
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK), "%s", body)
		var e echo.Response
		g.Expect(json.Unmarshal(body, &e)).To(Succeed(), "%s", body)
		g.Expect(e.Namespace).To(Equal(app.Namespace))
		g.Expect(names).To(ContainElement(e.Pod), "answered by a Pod of the WebApp")
		t.Logf("http://%s/who via %s answered by pod %s/%s", app.Spec.Hostname, gatewayIP, e.Namespace, e.Pod)
	}).WithTimeout(readyTimeout).WithPolling(500 * time.Millisecond).Should(Succeed())
}

// expectMetricsAuthorised scrapes the manager's HTTPS metrics endpoint as
// a Prometheus would: a ServiceAccount bound to the installed metrics-reader
// ClusterRole gets the metrics, one without that binding gets 403. Both
// answers need the installed RBAC of the manager itself (TokenReview and
// SubjectAccessReview, the metrics-auth role). The unbound one asks first
// with a name of its own: the endpoint caches a denial for half a minute.
func expectMetricsAuthorised(t *testing.T, readerRole string) {
	t.Helper()
	const ns = "monitoring"
	createNamespace(t, ns)
	ctx := context.Background()
	g := NewWithT(t)
	token := func(name string) string {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		g.Expect(cluster.Client.Create(ctx, sa)).To(Succeed())
		tr, err := cluster.Clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		return tr.Status.Token
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "install-test-prometheus"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: readerRole},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: ns}},
	}
	g.Expect(cluster.Client.Create(ctx, binding)).To(Succeed())
	t.Cleanup(func() { _ = cluster.Client.Delete(context.Background(), binding) })
	stranger, prometheus := token("stranger"), token("prometheus")

	// The endpoint serves a certificate of its own making: only the
	// authorisation is under test here.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed serving certificate
	scrape := func(g Gomega, tok string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "https://127.0.0.1:8443/metrics", nil)
		g.Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	g.Eventually(func(g Gomega) {
		code, body := scrape(g, stranger)
		g.Expect(code).To(Equal(http.StatusForbidden), "a ServiceAccount without %s: %s", readerRole, body)
	}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	g.Eventually(func(g Gomega) {
		code, body := scrape(g, prometheus)
		g.Expect(code).To(Equal(http.StatusOK), "a ServiceAccount bound to %s: %s", readerRole, body)
		g.Expect(body).To(ContainSubstring("controller_runtime_reconcile_total"))
	}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	t.Logf("manager metrics: 403 without %s, 200 with it", readerRole)
}

// run runs a command in the repository root and returns its stdout.
func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = paths.RepoRoot
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, e.String())
	}
	return o.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// helmCLIArgs turns named arguments (command, --release, --namespace,
// --chart, repeated --set) into the helm CLI's: `helm install R CHART -n N
// --set ...`, `helm uninstall R -n N`. Hooks are waited for (hookOnly, the
// CLI's default, said explicitly).
func helmCLIArgs(t *testing.T, args []string) []string {
	t.Helper()
	var release, ns, chart string
	var sets []string
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			t.Fatalf("helm: %s has no value", args[i])
		}
		switch args[i] {
		case "--release":
			release = args[i+1]
		case "--namespace":
			ns = args[i+1]
		case "--chart":
			chart = args[i+1]
		case "--set":
			sets = append(sets, "--set", args[i+1])
		default:
			t.Fatalf("helm: unknown argument %s", args[i])
		}
	}
	out := []string{args[0], release}
	if args[0] != "uninstall" {
		out = append(out, chart, "--wait=hookOnly")
	}
	return append(append(out, "--namespace", ns), sets...)
}

func parse(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	return testenv.ParseManifests(t, b)
}
