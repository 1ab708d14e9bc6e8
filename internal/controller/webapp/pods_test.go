package webapp

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func pod(name string, mutate func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	mutate(&p)
	return p
}

func waiting(reason, message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "registry.example.com/shop:1.0.0",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}}
	}
}

func TestPodProblem(t *testing.T) {
	rootImage := "container has runAsNonRoot and image will run as root (pod: \"shop-7d4-x2\", container: app)"
	cases := []struct {
		name string
		pods []corev1.Pod
		want string // "" or a substring
	}{
		{"no Pods", nil, ""},
		{"starting", []corev1.Pod{pod("a", waiting("ContainerCreating", ""))}, ""},
		{"root image refused", []corev1.Pod{pod("shop-7d4-x2", waiting("CreateContainerConfigError", rootImage))},
			"Pod shop-7d4-x2: container app cannot start: CreateContainerConfigError: " + rootImage},
		{"image pull back-off", []corev1.Pod{pod("a", waiting("ImagePullBackOff", `Back-off pulling image "registry.example.com/shop:1.0.0"`))},
			`container app cannot pull image "registry.example.com/shop:1.0.0"`},
		{"unschedulable", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 Insufficient memory."}}
		})}, "Pod a cannot be scheduled: Insufficient memory."},
		{"crash loop", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 4,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=app"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
		})}, "Pod a: container app keeps exiting: last exit code 1 (Error)"},
		{"out of memory, running again", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 2,
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}
		})}, "exit code 137 (OOMKilled): it used more memory than its limit"},
		{"restarted once, ready now", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 1, Ready: true,
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
		})}, ""},
		{"the first failing Pod by name", []corev1.Pod{
			pod("b", waiting("CreateContainerConfigError", "second")),
			pod("a", waiting("ContainerCreating", "")),
			pod("c", waiting("InvalidImageName", "third")),
		}, "Pod b: container app cannot start: CreateContainerConfigError: second"},
		{"a Pod being deleted does not count", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			waiting("CreateContainerConfigError", "x")(p)
			p.DeletionTimestamp = ptr.To(metav1.Now())
		})}, ""},
		{"init container", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "db" not found`}}}}
		})}, `container migrate cannot start: CreateContainerConfigError: secret "db" not found`},
		{"restarted once, running, not ready yet (a slow probe)", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 1,
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
		})}, ""},
		{"a Failed Pod (evicted) does not count", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			waiting("CreateContainerConfigError", "x")(p)
			p.Status.Phase = corev1.PodFailed
		})}, ""},
		{"cannot start the command", []corev1.Pod{pod("a", waiting("RunContainerError", `exec: "srv": executable file not found in $PATH`))},
			`container app cannot start: RunContainerError: exec: "srv": executable file not found in $PATH`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := podProblem(c.pods)
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestPodProblemIsStableAcrossBackOffs(t *testing.T) {
	// The kubelet alternates ErrImagePull and ImagePullBackOff, and the
	// back-off in CrashLoopBackOff's message grows: the text must not
	// follow, or every retry would cost a status write.
	a := podProblem([]corev1.Pod{pod("a", waiting("ErrImagePull", "rpc error: code = NotFound desc = not found"))})
	b := podProblem([]corev1.Pod{pod("a", waiting("ImagePullBackOff", `Back-off pulling image "x"`))})
	if a != b || a == "" {
		t.Fatalf("pull retries give different texts: %q and %q", a, b)
	}
	crash := func(backoff string, restarts int32) string {
		return podProblem([]corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: restarts,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off " + backoff}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}}}
		})})
	}
	if x, y := crash("10s", 1), crash("5m0s", 9); x != y {
		t.Fatalf("crash loop texts differ: %q and %q", x, y)
	}
	// Between back-offs the container runs (not ready) for a moment.
	running := podProblem([]corev1.Pod{pod("a", func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 3,
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}}}
	})})
	if running != crash("20s", 3) {
		t.Fatalf("running between crashes reads %q, waiting %q", running, crash("20s", 3))
	}
	// A command that cannot start: RunContainerError and CrashLoopBackOff
	// alternate, both after a StartError.
	startErr := func(reason string) string {
		return podProblem([]corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 2,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "varies " + reason}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: `exec: "srv": executable file not found`}}}}
		})})
	}
	if x, y := startErr("RunContainerError"), startErr("CrashLoopBackOff"); x != y || !strings.Contains(x, "executable file not found") {
		t.Fatalf("start error texts: %q and %q", x, y)
	}
	// The scheduler's node counts move with the cluster.
	unsched := func(msg string) string {
		return podProblem([]corev1.Pod{pod("a", func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}
		})})
	}
	if x, y := unsched("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."),
		unsched("0/57 nodes are available: 57 Insufficient cpu. preemption: 0/57 nodes are available: 57 No preemption victims found for incoming pod."); x != y {
		t.Fatalf("unschedulable texts differ with the node count: %q and %q", x, y)
	}
}

func TestWithPodProblem(t *testing.T) {
	problem := "Pod a: container app: CreateContainerConfigError: no"
	unavailable := metav1.Condition{Type: pylonv1alpha1.ConditionAvailable, Status: metav1.ConditionFalse, Reason: pylonv1alpha1.ReasonUnavailable, Message: "0 of 1 Pods of Deployment shop are available"}
	none := &appsv1.Deployment{}
	some := &appsv1.Deployment{Status: appsv1.DeploymentStatus{AvailableReplicas: 2}}
	got := withPodProblem(unavailable, none, problem)
	if got.Status != metav1.ConditionFalse || got.Reason != pylonv1alpha1.ReasonPodsFailing || got.Message != unavailable.Message+": "+problem {
		t.Fatalf("unavailable: %+v", got)
	}
	rolling := metav1.Condition{Status: metav1.ConditionUnknown, Reason: pylonv1alpha1.ReasonRollingOut, Message: "rolling out"}
	if got := withPodProblem(unavailable, some, problem); got.Status != metav1.ConditionFalse || got.Reason != pylonv1alpha1.ReasonUnavailable || !strings.HasSuffix(got.Message, problem) {
		t.Fatalf("some Pods serve: the reason must stay Unavailable: %+v", got)
	}
	if got := withPodProblem(rolling, some, problem); got.Status != metav1.ConditionUnknown || got.Reason != pylonv1alpha1.ReasonRollingOut || !strings.HasSuffix(got.Message, problem) {
		t.Fatalf("a rollout old Pods still serve must stay Unknown/RollingOut: %+v", got)
	}
	available := metav1.Condition{Status: metav1.ConditionTrue, Reason: pylonv1alpha1.ReasonAvailable, Message: "ok"}
	if got := withPodProblem(available, none, problem); got != available {
		t.Fatalf("an available Deployment changed: %+v", got)
	}
	if got := withPodProblem(unavailable, none, ""); got != unavailable {
		t.Fatalf("no problem changed the condition: %+v", got)
	}
}

func TestNeedsPodLook(t *testing.T) {
	d := func(gen, observed int64, replicas, available, updated, total int32) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: gen},
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, AvailableReplicas: available, UpdatedReplicas: updated, Replicas: total}}
	}
	for _, c := range []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"absent", nil, false},
		{"outdated status", d(2, 1, 1, 0, 0, 0), false},
		{"available", d(1, 1, 2, 2, 2, 2), false},
		{"none available", d(1, 1, 1, 0, 1, 1), true},
		{"rolling out", d(2, 2, 2, 2, 1, 3), true},
		{"scaled to zero", d(1, 1, 0, 0, 0, 0), false},
		{"old Pods terminating, new ones all available", d(2, 2, 2, 2, 2, 3), false},
		{"paused", func() *appsv1.Deployment { x := d(1, 1, 1, 0, 1, 1); x.Spec.Paused = true; return x }(), false},
	} {
		if got := needsPodLook(c.d); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
