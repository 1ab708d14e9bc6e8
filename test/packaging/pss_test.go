package packaging

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// manifestSets are every rendering users install: kustomize (make deploy,
// dist/install.yaml), the chart with each value set, and the OLM bundle.
func manifestSets(t *testing.T) map[string][]*unstructured.Unstructured {
	t.Helper()
	sets := map[string][]*unstructured.Unstructured{
		"kustomize config/default":           parse(t, kustomizeBuild(t, "config/default")),
		"kustomize config/gateway":           parse(t, kustomizeBuild(t, "config/gateway")),
		"kustomize hack/packaging/installer": parse(t, kustomizeBuild(t, "hack/packaging/installer")),
		"olm bundle":                         bundleDeployments(t),
	}
	for name, args := range valueSets {
		sets["helm "+name] = parse(t, helmTemplate(t, args...))
	}
	return sets
}

// Every Pod passes the restricted Pod Security Standard at the oldest
// supported Kubernetes minor and at the latest, judged by the admission
// plugin's own checks; that the pylon-system namespace enforces it is
// checked too.
func TestPodSecurityRestricted(t *testing.T) {
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	versions := []psaapi.Version{psaapi.MajorMinorVersion(1, 34), psaapi.LatestVersion()}
	for set, objs := range manifestSets(t) {
		pods := 0
		for _, o := range objs {
			tmpl, ok := podTemplate(t, o)
			if !ok {
				continue
			}
			pods++
			for _, v := range versions {
				restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: v}
				for _, r := range eval.EvaluatePod(restricted, &tmpl.ObjectMeta, &tmpl.Spec) {
					if !r.Allowed {
						t.Errorf("%s: %s: restricted Pod Security %s: %s: %s", set, ref(o), v, r.ForbiddenReason, r.ForbiddenDetail)
					}
				}
			}
		}
		if pods == 0 {
			t.Errorf("%s: no Pods found", set)
		}
		for _, ns := range ofKind(objs, "Namespace") {
			if ns.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
				t.Errorf("%s: %s does not enforce restricted Pod Security", set, ref(ns))
			}
		}
	}
}

// Beyond Pod Security: what keeps Pods operable and contained — read-only
// root filesystems, requests and limits, health probes.
func TestPodSecurityOperableDefaults(t *testing.T) {
	for set, objs := range manifestSets(t) {
		for _, o := range objs {
			tmpl, ok := podTemplate(t, o)
			if !ok {
				continue
			}
			for _, c := range tmpl.Spec.Containers {
				where := fmt.Sprintf("%s: %s container %s", set, ref(o), c.Name)
				sc := c.SecurityContext
				if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("%s: root filesystem is writable", where)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
					t.Errorf("%s: no CPU and memory requests", where)
				}
				if c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s: no memory limit", where)
				}
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: no liveness or readiness probe", where)
				}
			}
		}
	}
}

// podTemplate returns the Pod a workload object creates.
func podTemplate(t *testing.T, o *unstructured.Unstructured) (corev1.PodTemplateSpec, bool) {
	t.Helper()
	var path []string
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template"}
	case "Pod":
		path = nil
	default:
		return corev1.PodTemplateSpec{}, false
	}
	var tmpl corev1.PodTemplateSpec
	m := o.Object
	if path != nil {
		var found bool
		var err error
		m, found, err = unstructured.NestedMap(o.Object, path...)
		if err != nil || !found {
			t.Fatalf("%s: no pod template: %v", ref(o), err)
		}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &tmpl); err != nil {
		t.Fatalf("%s: %v", ref(o), err)
	}
	return tmpl, true
}
