package localcluster

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pylon-dev/pylon/test/echo"
)

// Reasons the simulated node gives for a Pod that is not Ready.
const (
	// ReasonContainersNotReady is the kubelet's own reason: a readiness
	// probe has not passed (yet).
	ReasonContainersNotReady = "ContainersNotReady"
	// ReasonNeverReady: an echo knob (ECHO_NEVER_READY or the image tag
	// never-ready) keeps the Pod not Ready for good.
	ReasonNeverReady = "NeverReady"
	// ReasonInvalidEchoFaults: a container's echo knob cannot be read, so
	// the Pod is held not Ready rather than serving without the fault the
	// test asked for.
	ReasonInvalidEchoFaults = "InvalidEchoFaults"
)

// readiness is what the node writes into a Pod's Ready and ContainersReady
// conditions.
type readiness struct {
	ready           bool
	reason, message string
}

var isReadyNow = readiness{ready: true}

// notReady is the kubelet's verdict while a readiness probe fails.
func notReady(pod *corev1.Pod) readiness {
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return readiness{reason: ReasonContainersNotReady, message: "containers with unready status: [" + strings.Join(names, " ") + "]"}
}

// containerFaults reads a container's echo knobs: its image tag and the
// env values written in its spec (the node resolves no valueFrom or
// envFrom).
func containerFaults(c corev1.Container) (echo.Faults, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	f, err := echo.FaultsFor(c.Image, env)
	if err != nil {
		return echo.Faults{}, fmt.Errorf("container %s: %w", c.Name, err)
	}
	return f, nil
}

// heldReadiness is the readiness a Pod's knobs impose whatever its probe
// says, or nil when the probe decides. An invalid knob holds the Pod too:
// a test of a bad canary must not pass because a typo left it healthy.
func heldReadiness(pod *corev1.Pod) *readiness {
	for _, c := range pod.Spec.Containers {
		f, err := containerFaults(c)
		switch {
		case err != nil:
			return &readiness{reason: ReasonInvalidEchoFaults, message: err.Error()}
		case f.NeverReady:
			return &readiness{reason: ReasonNeverReady, message: fmt.Sprintf(
				"container %s asks never to be ready (%s or image tag %q)", c.Name, echo.EnvNeverReady, "never-ready")}
		}
	}
	return nil
}
