package watch

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

func mustPool(t *testing.T, s string) Pool {
	t.Helper()
	p, err := ParsePool(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func gw(name, class string, age int, spec []string, status ...string) *gwv1.Gateway {
	g := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{
		Namespace: "infra", Name: name,
		CreationTimestamp: metav1.NewTime(time.Date(2024, 1, 1, 0, 0, age, 0, time.UTC)),
	}, Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)}}
	for _, a := range spec {
		g.Spec.Addresses = append(g.Spec.Addresses, gwv1.GatewaySpecAddress{Value: a})
	}
	for _, a := range status {
		g.Status.Addresses = append(g.Status.Addresses, gwv1.GatewayStatusAddress{Value: a})
	}
	return g
}

var classes = []*gwv1.GatewayClass{
	{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: gwv1.GatewayClassSpec{ControllerName: translate.ControllerName}},
	{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/other"}},
}

func TestParsePool(t *testing.T) {
	p := mustPool(t, "10.0.0.0/30, 192.0.2.7 ,2001:db8::/126")
	if len(p) != 3 || p[1].Bits() != 32 {
		t.Fatalf("parsed %v", p)
	}
	for _, bad := range []string{"10.0.0.1/24", "10.0.0.300", "nope/8"} {
		if _, err := ParsePool(bad); err == nil {
			t.Errorf("ParsePool(%q) accepted", bad)
		}
	}
}

func TestAssign(t *testing.T) {
	pool := mustPool(t, "10.0.0.0/29")
	got := pool.Assign(classes, []*gwv1.Gateway{
		gw("newest", "pylon", 5, nil),
		gw("sticky", "pylon", 4, nil, "10.0.0.4"),
		gw("asks", "pylon", 3, []string{"10.0.0.2"}),
		gw("asks-outside", "pylon", 2, []string{"203.0.113.9"}),
		gw("foreign", "other", 0, nil),
		gw("any", "pylon", 6, []string{""}), // an IPAddress without a value: any will do
		gw("oldest", "pylon", 1, nil),
	})
	want := map[string]string{
		"asks":   "10.0.0.2", // requested and in the pool
		"sticky": "10.0.0.4", // kept from status
		"oldest": "10.0.0.1", // lowest free; .0 is the network address
		"newest": "10.0.0.3",
		"any":    "10.0.0.5",
	}
	if len(got) != len(want) {
		t.Errorf("assigned %v, want %v", got, want)
	}
	for name, ip := range want {
		if g := got[types.NamespacedName{Namespace: "infra", Name: name}]; g != ip {
			t.Errorf("%s got %q, want %q", name, g, ip)
		}
	}
}

// The pool runs out: the youngest Gateways get nothing, and the broadcast
// address is never handed out.
func TestAssignExhausted(t *testing.T) {
	got := mustPool(t, "10.0.0.0/30").Assign(classes, []*gwv1.Gateway{
		gw("a", "pylon", 1, nil), gw("b", "pylon", 2, nil), gw("c", "pylon", 3, nil),
	})
	if len(got) != 2 || got[types.NamespacedName{Namespace: "infra", Name: "a"}] != "10.0.0.1" ||
		got[types.NamespacedName{Namespace: "infra", Name: "b"}] != "10.0.0.2" {
		t.Fatalf("assigned %v", got)
	}
}

// Two Gateways asking for the same address: the older wins, the newer gets
// none rather than a different one it did not ask for.
func TestAssignContestedRequest(t *testing.T) {
	got := mustPool(t, "10.0.0.0/29").Assign(classes, []*gwv1.Gateway{
		gw("young", "pylon", 2, []string{"10.0.0.5"}), gw("old", "pylon", 1, []string{"10.0.0.5"}),
	})
	if len(got) != 1 || got[types.NamespacedName{Namespace: "infra", Name: "old"}] != "10.0.0.5" {
		t.Fatalf("assigned %v", got)
	}
}
