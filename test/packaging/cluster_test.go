package packaging

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/test/testenv"
)

// One API server for the package, started by the first test that needs it.
var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
	k8s     client.Client
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}
	os.Exit(code)
}

// cluster starts (once) envtest with the Gateway API CRDs, which the
// installer and the chart create objects of.
func cluster(t *testing.T) client.Client {
	t.Helper()
	envOnce.Do(func() {
		env, envErr = testenv.Start(testenv.Options{GatewayAPI: true})
		if envErr != nil {
			return
		}
		utilruntime.Must(apiextensionsv1.AddToScheme(env.Scheme))
		k8s, envErr = client.New(env.Config, client.Options{Scheme: env.Scheme})
	})
	if envErr != nil {
		t.Fatalf("envtest: %v", envErr)
	}
	return k8s
}

const fieldOwner = client.FieldOwner("pylon-packaging-test")

// dryRunApply applies objs as `kubectl apply --server-side --dry-run=server`
// would, after creating for real what the dry run needs: the CRDs (objects
// of a kind can only be dry-run once it exists) and the namespaces. Every
// error is collected, so one run reports all broken objects.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	g := NewWithT(t)
	c := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var crds, rest []*unstructured.Unstructured
	namespaces := map[string]bool{}
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			crds = append(crds, o)
		case "Namespace":
			namespaces[o.GetName()] = true
		default:
			rest = append(rest, o)
			if o.GetNamespace() != "" {
				namespaces[o.GetNamespace()] = true
			}
		}
	}
	for _, crd := range crds {
		g.Expect(c.Apply(ctx, client.ApplyConfigurationFromUnstructured(crd.DeepCopy()), fieldOwner, client.ForceOwnership)).
			To(Succeed(), "create %s for real", ref(crd))
	}
	for _, crd := range crds {
		g.Eventually(func(g Gomega) {
			got := &apiextensionsv1.CustomResourceDefinition{}
			g.Expect(c.Get(ctx, client.ObjectKey{Name: crd.GetName()}, got)).To(Succeed())
			g.Expect(established(got)).To(BeTrue(), "%s not established", crd.GetName())
		}).WithTimeout(30 * time.Second).Should(Succeed())
	}
	for ns := range namespaces {
		err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	// Namespace objects themselves are dry-run too (labels, e.g. Pod Security).
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			rest = append(rest, o)
		}
	}

	var failures []string
	for _, o := range rest {
		namespaced, err := c.IsObjectNamespaced(o)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: no such API: %v", ref(o), err))
			continue
		}
		if namespaced && o.GetNamespace() == "" {
			failures = append(failures, ref(o)+": namespaced but has no namespace (it would land in the user's current namespace)")
			continue
		}
		if !namespaced && o.GetNamespace() != "" {
			failures = append(failures, ref(o)+": cluster-scoped but has a namespace")
			continue
		}
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), fieldOwner, client.ForceOwnership, client.DryRunAll)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", ref(o), err))
		}
	}
	if len(failures) > 0 {
		t.Errorf("server-side dry-run failed for %d of %d objects:", len(failures), len(rest))
		for _, f := range failures {
			t.Errorf("  %s", f)
		}
	}
	t.Logf("dry-run applied %d objects after creating %d CRDs", len(rest), len(crds))
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
