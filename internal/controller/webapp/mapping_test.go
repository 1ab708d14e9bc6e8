package webapp

import (
	"testing"

	cmacme "github.com/cert-manager/cert-manager/pkg/apis/acme/v1"
	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func TestClassIndexValue(t *testing.T) {
	for _, c := range []struct {
		name string
		exp  *pylonv1alpha1.ExposureSpec
		want string
	}{
		{"names a class", &pylonv1alpha1.ExposureSpec{Class: "public"}, "public"},
		{"no exposure", nil, defaultClassKey},
		{"empty class", &pylonv1alpha1.ExposureSpec{}, defaultClassKey},
	} {
		got := classIndexValue(&pylonv1alpha1.WebApp{Spec: pylonv1alpha1.WebAppSpec{Exposure: c.exp}})
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: got %v, want [%s]", c.name, got, c.want)
		}
	}
}

func TestIssuerIndexValue(t *testing.T) {
	app := func(ref *pylonv1alpha1.IssuerReference) *pylonv1alpha1.WebApp {
		return &pylonv1alpha1.WebApp{Spec: pylonv1alpha1.WebAppSpec{TLS: &pylonv1alpha1.TLSSpec{IssuerRef: ref}}}
	}
	for _, c := range []struct {
		name string
		app  *pylonv1alpha1.WebApp
		want []string
	}{
		{"no tls", &pylonv1alpha1.WebApp{}, nil},
		{"no issuer", app(nil), nil},
		{"kind defaults to ClusterIssuer", app(&pylonv1alpha1.IssuerReference{Name: "le"}), []string{"ClusterIssuer/le"}},
		{"namespaced issuer", app(&pylonv1alpha1.IssuerReference{Name: "own", Kind: "Issuer"}), []string{"Issuer/own"}},
		{"external issuer", app(&pylonv1alpha1.IssuerReference{Name: "x", Kind: "Issuer", Group: "example.com"}), nil},
	} {
		got := issuerIndexValue(c.app)
		if len(got) != len(c.want) || (len(got) == 1 && got[0] != c.want[0]) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestGatewayChangedIgnoresWhatNoReconcileReads(t *testing.T) {
	base := func() *gwv1.Gateway {
		return &gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1},
			Status: gwv1.GatewayStatus{
				Addresses: []gwv1.GatewayStatusAddress{{Value: "192.0.2.1"}},
				Listeners: []gwv1.ListenerStatus{{Name: "http", AttachedRoutes: 1}},
			},
		}
	}
	for _, c := range []struct {
		name   string
		change func(*gwv1.Gateway)
		want   bool
	}{
		{"attached routes", func(g *gwv1.Gateway) { g.Status.Listeners[0].AttachedRoutes = 2 }, false},
		{"listener conditions", func(g *gwv1.Gateway) {
			g.Status.Listeners[0].Conditions = []metav1.Condition{{Type: "Programmed", Status: "True"}}
		}, false},
		{"gateway conditions", func(g *gwv1.Gateway) { g.Status.Conditions = []metav1.Condition{{Type: "Accepted"}} }, false},
		{"spec (generation)", func(g *gwv1.Gateway) { g.Generation = 2 }, true},
		{"address", func(g *gwv1.Gateway) { g.Status.Addresses[0].Value = "192.0.2.2" }, true},
		{"address added", func(g *gwv1.Gateway) {
			g.Status.Addresses = append(g.Status.Addresses, gwv1.GatewayStatusAddress{Value: "2001:db8::1"})
		}, true},
	} {
		n := base()
		c.change(n)
		if got := gatewayChanged.Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: n}); got != c.want {
			t.Errorf("%s: passes %v, want %v", c.name, got, c.want)
		}
	}
	if !gatewayChanged.Create(event.CreateEvent{Object: base()}) || !gatewayChanged.Delete(event.DeleteEvent{Object: base()}) {
		t.Error("creations and deletions must pass")
	}
}

func TestIssuerChangedFollowsReady(t *testing.T) {
	iss := func(ready cmmeta.ConditionStatus, msg string) *certmanagerv1.ClusterIssuer {
		return &certmanagerv1.ClusterIssuer{
			ObjectMeta: metav1.ObjectMeta{Name: "le", Generation: 1},
			Status: certmanagerv1.IssuerStatus{
				Conditions: []certmanagerv1.IssuerCondition{{Type: certmanagerv1.IssuerConditionReady, Status: ready, Message: msg, ObservedGeneration: 1}},
				ACME:       &cmacmeStatus,
			},
		}
	}
	other := iss("True", "ok")
	other.Status.ACME = nil
	for _, c := range []struct {
		name     string
		old, new *certmanagerv1.ClusterIssuer
		want     bool
	}{
		{"ready flips", iss("False", "ok"), iss("True", "ok"), true},
		{"message changes", iss("True", "ok"), iss("True", "registered"), true},
		{"other status only", iss("True", "ok"), other, false},
	} {
		if got := issuerChanged.Update(event.UpdateEvent{ObjectOld: c.old, ObjectNew: c.new}); got != c.want {
			t.Errorf("%s: passes %v, want %v", c.name, got, c.want)
		}
	}
}

var cmacmeStatus = cmacme.ACMEIssuerStatus{URI: "https://acme.example/acct/1"}

func TestTrimManagedFieldsKeepsReplicasOwnership(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
	}
	template := `"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}}`
	for _, c := range []struct {
		name   string
		fields []metav1.ManagedFieldsEntry
		owns   bool
	}{
		{"pylon applies replicas", []metav1.ManagedFieldsEntry{
			entry("pylon", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:replicas":{},`+template+`}}`),
			entry("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, `{"f:status":{"f:replicas":{}}}`),
		}, true},
		{"replicas handed over", []metav1.ManagedFieldsEntry{
			entry("pylon", metav1.ManagedFieldsOperationApply, `{"f:spec":{`+template+`}}`),
			entry("pylon-replicas-handoff", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:replicas":{}}}`),
		}, false},
		{"someone else updates replicas", []metav1.ManagedFieldsEntry{
			entry("pylon", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:replicas":{}}}`),
		}, false},
		{"none", nil, false},
	} {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{ManagedFields: c.fields}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)}}
		if appliedReplicas(d.ManagedFields) != c.owns {
			t.Fatalf("%s: fixture: appliedReplicas = %v", c.name, !c.owns)
		}
		TrimManagedFields(d)
		if got := appliedReplicas(d.ManagedFields); got != c.owns {
			t.Errorf("%s: after trimming appliedReplicas = %v, want %v", c.name, got, c.owns)
		}
		if len(d.ManagedFields) > 1 {
			t.Errorf("%s: %d managedFields entries kept, want at most 1", c.name, len(d.ManagedFields))
		}
	}
}
