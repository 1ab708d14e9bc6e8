package claims

import (
	"fmt"
	"time"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Verdict is the answer of Ensure: whether the WebApp holds its hostname,
// and if not, who does (or who goes first), in words for its
// HostnameClaimed condition.
type Verdict struct {
	// Held is true when the WebApp holds its hostname and may be routed.
	Held bool
	// Holder is the WebApp holding the hostname, or the one that goes first
	// when nobody holds it yet; nil when Held or ServedBy is set.
	Holder *pylonv1alpha1.WebAppReference
	// ServedBy is the object of another namespace that already serves the
	// hostname, when that is why the WebApp may not claim it.
	ServedBy *Foreign
	// Reason is pylonv1alpha1.ReasonHostnameClaimed or ReasonHostnameConflict.
	Reason string
	// Message names the holder as "<namespace>/<name>".
	Message string
}

// consequence tells the waiting team what the conflict costs them.
const consequence = "this WebApp gets no route, certificate or DNS record until it is released"

func heldVerdict(host string) Verdict {
	return Verdict{
		Held:    true,
		Reason:  pylonv1alpha1.ReasonHostnameClaimed,
		Message: fmt.Sprintf("hostname %s is held by this WebApp", host),
	}
}

// heldByVerdict reports a claim held by another WebApp. The claim's age is
// in the message so the waiting team can see who came first.
func heldByVerdict(claim *pylonv1alpha1.HostnameClaim) Verdict {
	holder := claim.Spec.WebApp
	return Verdict{
		Holder: &holder,
		Reason: pylonv1alpha1.ReasonHostnameConflict,
		Message: fmt.Sprintf("hostname %s is held by WebApp %s (since %s); %s",
			claim.Name, refString(holder), rfc3339(claim.CreationTimestamp.Time), consequence),
	}
}

// goesFirstVerdict reports an unclaimed hostname that an older eligible
// WebApp is entitled to claim first.
func goesFirstVerdict(host string, first *pylonv1alpha1.WebApp) Verdict {
	holder := ref(first)
	return Verdict{
		Holder: &holder,
		Reason: pylonv1alpha1.ReasonHostnameConflict,
		Message: fmt.Sprintf("hostname %s is wanted by the older WebApp %s (created %s), which goes first; %s",
			host, refString(holder), rfc3339(first.CreationTimestamp.Time), consequence),
	}
}

// servedElsewhereVerdict reports an unclaimed hostname that another
// namespace already serves with an object of its own.
func servedElsewhereVerdict(host string, f *Foreign) Verdict {
	return Verdict{
		ServedBy: f,
		Reason:   pylonv1alpha1.ReasonHostnameConflict,
		Message: fmt.Sprintf("hostname %s is already served by namespace %s (%s, created %s) through the same gateway; %s",
			host, f.Namespace, f, rfc3339(f.Created.Time), consequence),
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
