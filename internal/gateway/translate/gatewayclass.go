package translate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/gateway-api/pkg/consts"

	"github.com/pylon-dev/pylon/internal/contract"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

type classInfo struct {
	gc       *gwv1.GatewayClass
	accepted bool
	reason   gwv1.GatewayClassConditionReason
	message  string
	// sharing is the platform's opt-in to hostnames shared across
	// namespaces (contract.AnnotationHostnameSharing).
	sharing bool
}

// processGatewayClasses claims the classes whose controllerName is ours and
// computes their status. Classes of other controllers are never touched.
func (t *translator) processGatewayClasses() {
	for _, gc := range sortedByName(t.snap.GatewayClasses) {
		if gc == nil || gc.Spec.ControllerName != ControllerName {
			continue
		}
		ci := &classInfo{gc: gc, accepted: true, reason: gwv1.GatewayClassReasonAccepted, message: "accepted by " + string(ControllerName),
			sharing: gc.Annotations[contract.AnnotationHostnameSharing] == contract.HostnameSharingAllowAcrossNamespaces}
		if gc.Spec.ParametersRef != nil {
			// The bundled data plane has no parameters type; refusing is
			// clearer than silently ignoring what the user asked for.
			ci.accepted = false
			ci.reason = gwv1.GatewayClassReasonInvalidParameters
			ci.message = "parametersRef is not supported by " + string(ControllerName)
		}
		t.classes[gc.Name] = ci

		gen := gc.Generation
		verOK, verMsg := supportedVersion(t.ix.opts.CRDBundleVersion)
		verReason := gwv1.GatewayClassReasonSupportedVersion
		if !verOK {
			verReason = gwv1.GatewayClassReasonUnsupportedVersion
		}
		t.status.GatewayClasses = append(t.status.GatewayClasses, GatewayClassStatus{
			Name: gc.Name,
			Status: gwv1.GatewayClassStatus{Conditions: []metav1.Condition{
				condition(gwv1.GatewayClassConditionStatusAccepted, ci.accepted, ci.reason, ci.message, gen),
				condition(gwv1.GatewayClassConditionStatusSupportedVersion, verOK, verReason, verMsg, gen),
			}},
		})
	}
}

// supportedVersion compares the installed CRD bundle version with the one
// this code was built against, by major.minor. Unsupported versions get
// best-effort service (Accepted stays True), as the spec allows.
func supportedVersion(installed string) (bool, string) {
	if installed == "" {
		return true, fmt.Sprintf("built for Gateway API %s; installed CRD version unknown", consts.BundleVersion)
	}
	if majorMinor(installed) == majorMinor(consts.BundleVersion) {
		return true, fmt.Sprintf("Gateway API %s is supported", installed)
	}
	return false, fmt.Sprintf("installed Gateway API CRDs are %s; supported version is %s", installed, majorMinor(consts.BundleVersion))
}

func majorMinor(v string) string {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return v
	}
	return "v" + parts[0] + "." + parts[1]
}
