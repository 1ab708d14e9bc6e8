package resources

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// The restricted Pod Security Standard is met by every Pod Pylon builds,
// whatever the WebApp says: the Pod must not run as root and uses the
// runtime's default seccomp profile; the container drops every capability
// and cannot gain privileges. The WebApp only chooses what apps
// legitimately differ in (UID, GID, fsGroup, read-only root).

// podSecurityContext is the Pod's security context.
func podSecurityContext(app *pylonv1alpha1.WebApp) *corev1.PodSecurityContext {
	psc := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if sc := app.Spec.SecurityContext; sc != nil {
		psc.RunAsUser = sc.RunAsUser
		psc.RunAsGroup = sc.RunAsGroup
		psc.FSGroup = sc.FSGroup
	}
	return psc
}

// containerSecurityContext is the app container's security context.
func containerSecurityContext(app *pylonv1alpha1.WebApp) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if readOnlyRoot(app) {
		sc.ReadOnlyRootFilesystem = ptr.To(true)
	}
	return sc
}

// readOnlyRoot reports whether the app's root filesystem is read-only.
func readOnlyRoot(app *pylonv1alpha1.WebApp) bool {
	sc := app.Spec.SecurityContext
	return sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
}

// tmpVolume gives a read-only root a writable /tmp, which most runtimes and
// libraries expect (temporary files, unix sockets, JIT caches).
func tmpVolume(app *pylonv1alpha1.WebApp) ([]corev1.Volume, []corev1.VolumeMount) {
	if !readOnlyRoot(app) {
		return nil, nil
	}
	return []corev1.Volume{{Name: TmpVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		[]corev1.VolumeMount{{Name: TmpVolumeName, MountPath: TmpPath}}
}

// PreStopSleepSeconds is how long a terminating Pod of app keeps serving
// before SIGTERM.
func PreStopSleepSeconds(app *pylonv1alpha1.WebApp) int32 {
	if s := app.Spec.Shutdown; s != nil && s.PreStopSleepSeconds != nil {
		return *s.PreStopSleepSeconds
	}
	return DefaultPreStopSleepSeconds
}

// TerminationGracePeriodSeconds is the time from the deletion of a Pod of
// app until its container is killed.
func TerminationGracePeriodSeconds(app *pylonv1alpha1.WebApp) int64 {
	if s := app.Spec.Shutdown; s != nil && s.TerminationGracePeriodSeconds != nil {
		return *s.TerminationGracePeriodSeconds
	}
	return DefaultTerminationGracePeriodSeconds
}

// lifecycle is the container's preStop sleep, the kubelet's native sleep
// action (no shell or sleep binary needed in the image); none for 0, which
// sends SIGTERM at once.
func lifecycle(app *pylonv1alpha1.WebApp) *corev1.Lifecycle {
	n := PreStopSleepSeconds(app)
	if n <= 0 {
		return nil
	}
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: int64(n)}}}
}
