package claims

import (
	"context"
	"testing"

	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Nobody calls Ensure or Release in these tests: every deletion is the
// garbage collector's.

func TestGCDeletesClaimOfAWebAppThatMovedAway(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	h1, h2 := newHost(t), newHost(t)
	app := newWebApp(t, newNamespace(t, "a"), "shop", h1)
	g.Expect(ensure(t, app, nil).Held).To(gomega.BeTrue())

	app.Spec.Hostname = h2
	g.Expect(k8s.Update(ctx, app)).To(gomega.Succeed())
	g.Eventually(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, h1) }, timeout, poll).Should(gomega.BeNil())
}

func TestGCDeletesClaimNamingAnEarlierWebAppOfTheSameName(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	host := newHost(t)
	app := newWebApp(t, newNamespace(t, "a"), "shop", host)
	// As left by a WebApp of this name that was deleted while Pylon was
	// down: same namespace, name and hostname, another UID.
	stale := &pylonv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{Name: host, Labels: map[string]string{LabelWebAppUID: "00000000-0000-0000-0000-000000000001"}},
		Spec: pylonv1alpha1.HostnameClaimSpec{Hostname: host, WebApp: pylonv1alpha1.WebAppReference{
			Namespace: app.Namespace, Name: app.Name, UID: "00000000-0000-0000-0000-000000000001",
		}},
	}
	g.Expect(k8s.Create(ctx, stale)).To(gomega.Succeed())
	g.Eventually(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, host) }, timeout, poll).Should(gomega.BeNil())
}

func TestGCDeletesClaimOfAMissingWebApp(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	orphan := &pylonv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{Name: host},
		Spec: pylonv1alpha1.HostnameClaimSpec{Hostname: host, WebApp: pylonv1alpha1.WebAppReference{
			Namespace: "nowhere", Name: "shop", UID: "00000000-0000-0000-0000-000000000002",
		}},
	}
	g.Expect(k8s.Create(context.Background(), orphan)).To(gomega.Succeed())
	g.Eventually(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, host) }, timeout, poll).Should(gomega.BeNil())
}
