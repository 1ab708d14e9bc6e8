package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// restrictedViolations judges a Pod template with the PodSecurity admission
// plugin's own checks at the restricted level, at the oldest supported
// Kubernetes minor and at the latest.
func restrictedViolations(t *testing.T, tmpl corev1.PodTemplateSpec) []string {
	t.Helper()
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range []psaapi.Version{psaapi.MajorMinorVersion(1, 34), psaapi.LatestVersion()} {
		for _, r := range eval.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: v}, &tmpl.ObjectMeta, &tmpl.Spec) {
			if !r.Allowed {
				out = append(out, v.String()+": "+r.ForbiddenReason+": "+r.ForbiddenDetail)
			}
		}
	}
	return out
}

// Every Pod template the builders make, stable and canary, for every golden
// case, passes the restricted Pod Security Standard.
func TestPodsAreRestricted(t *testing.T) {
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		app, e := decodeCase(t, raw)
		for _, d := range []*appsv1.Deployment{MakeDeployment(app), MakeCanaryDeployment(app, e.Canary)} {
			if d == nil {
				continue
			}
			for _, v := range restrictedViolations(t, d.Spec.Template) {
				t.Errorf("%s: Deployment %s: %s", filepath.Base(in), d.Name, v)
			}
		}
	}
}

// The check above can fail: a template without Pylon's security contexts is
// refused for each of the four controls Pylon sets.
func TestRestrictedCheckCatchesAMissingContext(t *testing.T) {
	tmpl := MakeDeployment(&pylonv1alpha1.WebApp{Spec: pylonv1alpha1.WebAppSpec{Image: "shop:1"}}).Spec.Template
	tmpl.Spec.SecurityContext = nil
	tmpl.Spec.Containers[0].SecurityContext = nil
	got := strings.Join(restrictedViolations(t, tmpl), "\n")
	for _, want := range []string{"allowPrivilegeEscalation", "unrestricted capabilities", "runAsNonRoot", "seccompProfile"} {
		if !strings.Contains(got, want) {
			t.Errorf("violations do not mention %q:\n%s", want, got)
		}
	}
}

func TestSecurityContextDefaultsAndOverrides(t *testing.T) {
	cases := []struct {
		name       string
		sc         *pylonv1alpha1.SecurityContext
		sd         *pylonv1alpha1.ShutdownSpec
		wantPod    corev1.PodSecurityContext
		wantRO     bool
		wantSleep  int64 // 0: no preStop hook
		wantGrace  int64
		wantTmpDir bool
	}{
		{
			name:      "defaults",
			wantPod:   corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			wantSleep: 5, wantGrace: 30,
		},
		{
			name: "fixed ids and a read-only root",
			sc:   &pylonv1alpha1.SecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](3000), FSGroup: ptr.To[int64](2000), ReadOnlyRootFilesystem: ptr.To(true)},
			sd:   &pylonv1alpha1.ShutdownSpec{PreStopSleepSeconds: ptr.To[int32](15), TerminationGracePeriodSeconds: ptr.To[int64](90)},
			wantPod: corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](3000), FSGroup: ptr.To[int64](2000),
			},
			wantRO: true, wantSleep: 15, wantGrace: 90, wantTmpDir: true,
		},
		{
			name:      "read-only root off, no sleep, grace only",
			sc:        &pylonv1alpha1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(false)},
			sd:        &pylonv1alpha1.ShutdownSpec{PreStopSleepSeconds: ptr.To[int32](0)},
			wantPod:   corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			wantSleep: 0, wantGrace: 30,
		},
		{
			name:      "grace only keeps the default sleep",
			sd:        &pylonv1alpha1.ShutdownSpec{TerminationGracePeriodSeconds: ptr.To[int64](120)},
			wantPod:   corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			wantSleep: 5, wantGrace: 120,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := &pylonv1alpha1.WebApp{Spec: pylonv1alpha1.WebAppSpec{Image: "shop:1", SecurityContext: c.sc, Shutdown: c.sd}}
			for _, d := range []*appsv1.Deployment{MakeDeployment(app), MakeCanaryDeployment(app, Canary{Run: true, Image: "shop:2", Weight: 10, SizeWeight: 10})} {
				spec := d.Spec.Template.Spec
				want := c.wantPod
				want.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
				if got := spec.SecurityContext; got == nil || !equality.Semantic.DeepEqual(*got, want) {
					t.Errorf("%s: pod securityContext = %+v, want %+v", d.Name, got, want)
				}
				ctr := spec.Containers[0]
				csc := ctr.SecurityContext
				if csc == nil || ptr.Deref(csc.AllowPrivilegeEscalation, true) || csc.Capabilities == nil ||
					len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" || len(csc.Capabilities.Add) != 0 {
					t.Errorf("%s: container securityContext = %+v, want no privilege escalation and every capability dropped", d.Name, csc)
				}
				if got := csc != nil && ptr.Deref(csc.ReadOnlyRootFilesystem, false); got != c.wantRO {
					t.Errorf("%s: readOnlyRootFilesystem = %v, want %v", d.Name, got, c.wantRO)
				}
				var sleep int64
				if l := ctr.Lifecycle; l != nil && l.PreStop != nil {
					if l.PreStop.Sleep == nil || l.PreStop.Exec != nil || l.PreStop.HTTPGet != nil {
						t.Errorf("%s: preStop = %+v, want the native sleep action only", d.Name, l.PreStop)
					} else {
						sleep = l.PreStop.Sleep.Seconds
					}
				}
				if sleep != c.wantSleep {
					t.Errorf("%s: preStop sleep = %d, want %d", d.Name, sleep, c.wantSleep)
				}
				if got := ptr.Deref(spec.TerminationGracePeriodSeconds, -1); got != c.wantGrace {
					t.Errorf("%s: terminationGracePeriodSeconds = %d, want %d", d.Name, got, c.wantGrace)
				}
				hasTmp := len(spec.Volumes) == 1 && spec.Volumes[0].EmptyDir != nil && spec.Volumes[0].Name == TmpVolumeName &&
					len(ctr.VolumeMounts) == 1 && ctr.VolumeMounts[0].MountPath == "/tmp" && ctr.VolumeMounts[0].Name == TmpVolumeName
				if hasTmp != c.wantTmpDir || (!c.wantTmpDir && (len(spec.Volumes) > 0 || len(ctr.VolumeMounts) > 0)) {
					t.Errorf("%s: volumes %+v, mounts %+v; want an emptyDir at /tmp: %v", d.Name, spec.Volumes, ctr.VolumeMounts, c.wantTmpDir)
				}
			}
		})
	}
}
