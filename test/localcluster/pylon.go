package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/test/testenv"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Pylon's installation in the local cluster.
const (
	SystemNamespace = "pylon-system"
	// GatewayAddress is the bundled gateway's address: its listeners bind
	// it and Gateways and Ingresses report it.
	GatewayAddress = "10.250.0.1"
	// GatewayPool is the address pool Gateways get addresses of their own
	// from, when PylonOptions.GatewayAddressPool asks for it.
	GatewayPool = "10.250.1.0/24"
	// ManagerUser and GatewayUser are the ServiceAccounts of config/rbac
	// (after config/default's namespace and name prefix) and
	// config/gateway: the processes authenticate as them, so they have
	// exactly the permissions the manifests grant.
	ManagerUser = "system:serviceaccount:" + SystemNamespace + ":pylon-controller-manager"
	GatewayUser = "system:serviceaccount:" + SystemNamespace + ":pylon-gateway"
)

// PylonOptions say where Pylon's binaries and manifests are.
type PylonOptions struct {
	RepoRoot   string
	ManagerBin string
	GatewayBin string
	// ExtraCRDs are more CRD files or directories to install.
	ExtraCRDs []string
	// NoDefaultGateway leaves out config/gateway's Gateway and
	// ExposureClass, so the cluster holds only what a test creates (the
	// conformance suite).
	NoDefaultGateway bool
	// GatewayAddressPool is the gateway's --gateway-address-pool (e.g.
	// GatewayPool): every Gateway then gets an address of its own. Empty:
	// all Gateways share GatewayAddress.
	GatewayAddressPool string
	// GatewayReplicas is how many gateway processes serve the same
	// addresses (SO_REUSEPORT, the gateway's default), each with its own
	// admin port (GatewayAdminAddress); zero means DefaultGatewayReplicas.
	GatewayReplicas int
}

// DefaultGatewayReplicas is the number of gateway replicas the local
// cluster runs, as the chart does: two, so that a rolling restart can keep
// an address served.
const DefaultGatewayReplicas = 2

// Drain timings of the local cluster's gateways (--drain-delay,
// --drain-timeout): shorter than the chart's, since no load balancer here
// needs time to see /readyz fail, and a restart test should not wait long.
const (
	GatewayDrainDelay   = 2 * time.Second
	GatewayDrainTimeout = 5 * time.Second
)

// GatewayAdminAddress is the admin address (/readyz, /metrics) of gateway
// replica i: 127.0.0.1:9090, :9091, ...
func GatewayAdminAddress(i int) string { return fmt.Sprintf("127.0.0.1:%d", 9090+i) }

// Pylon is Pylon running in the local cluster: its manager and gateway
// replicas as processes of their own.
type Pylon struct {
	// Manager is Managers[0], the replica that leads after InstallPylon.
	Manager *Process
	// Managers are the manager replicas, electing a leader through the
	// Lease pylon-manager.pylon.dev (see managerReplicas).
	Managers []*Process
	// Gateways are the gateway replicas, Gateways[i] with its admin port
	// at GatewayAdminAddress(i).
	Gateways []*Process
	// Gateway is Gateways[0].
	Gateway *Process
}

// InstallPylon installs the CRDs (Pylon's, Gateway API's standard channel,
// cert-manager's), the RBAC of config/rbac and config/gateway, the classes,
// Gateway and ExposureClass of config/gateway, then starts the manager and
// the gateway and waits for the default ExposureClass to be accepted.
func (c *Cluster) InstallPylon(ctx context.Context, o PylonOptions) (*Pylon, error) {
	crds, err := testenv.CRDPaths(o.RepoRoot, testenv.Options{GatewayAPI: true, CertManager: true})
	if err != nil {
		return nil, err
	}
	if _, err := envtest.InstallCRDs(c.Admin, envtest.CRDInstallOptions{Paths: append(crds, o.ExtraCRDs...), ErrorIfPathMissing: true, Scheme: c.Scheme}); err != nil {
		return nil, fmt.Errorf("install crds: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SystemNamespace}}
	if err := c.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	objs, err := pylonManifests(o.RepoRoot, !o.NoDefaultGateway)
	if err != nil {
		return nil, err
	}
	for _, u := range objs {
		if err := c.Apply(ctx, u); err != nil {
			return nil, err
		}
	}
	replicas := o.GatewayReplicas
	if replicas <= 0 {
		replicas = DefaultGatewayReplicas
	}
	p := &Pylon{}
	var metricsURLs []string
	for i := range replicas {
		name := "gateway"
		if i > 0 {
			name = fmt.Sprintf("gateway-%d", i)
		}
		// Every replica binds the same listener addresses (SO_REUSEPORT)
		// and elects one status writer.
		kc, err := c.ProcessKubeconfig(name, GatewayUser)
		if err != nil {
			return nil, err
		}
		gw := &Process{Name: name, Path: o.GatewayBin, LogPath: c.logPath(name), Env: []string{"KUBECONFIG=" + kc}, Args: []string{
			"--admin-bind-address=" + GatewayAdminAddress(i), "--listener-bind-address=" + GatewayAddress,
			"--gateway-address=" + GatewayAddress, "--leader-elect=true", "--leader-elect-namespace=" + SystemNamespace, "--access-log=false",
			"--drain-delay=" + GatewayDrainDelay.String(), "--drain-timeout=" + GatewayDrainTimeout.String(),
		}}
		if o.GatewayAddressPool != "" {
			gw.Args = append(gw.Args, "--gateway-address-pool="+o.GatewayAddressPool)
		}
		p.Gateways = append(p.Gateways, gw)
		metricsURLs = append(metricsURLs, "http://"+GatewayAdminAddress(i)+"/metrics")
	}
	p.Gateway = p.Gateways[0]
	if p.Managers, err = c.managerReplicas(o.ManagerBin, metricsURLs); err != nil {
		return nil, err
	}
	p.Manager = p.Managers[0]
	for _, gw := range p.Gateways {
		if err := gw.Start(); err != nil {
			_ = p.stopGateways()
			return nil, err
		}
	}
	if err := p.Manager.Start(); err != nil {
		_ = p.stopGateways()
		return nil, err
	}
	if err := c.waitReady(ctx, !o.NoDefaultGateway); err != nil {
		_ = p.Stop()
		return nil, err
	}
	// The standby starts once replica 0 leads (it reconciled the class),
	// so the manager tests scrape on 127.0.0.1:8080 is the leader.
	for _, m := range p.Managers[1:] {
		if err := m.Start(); err != nil {
			_ = p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// Stop stops the managers and the gateways.
func (p *Pylon) Stop() error {
	var errs []error
	for _, m := range p.Managers {
		errs = append(errs, m.Stop(10*time.Second))
	}
	return errors.Join(append(errs, p.stopGateways())...)
}

// stopGateways stops the gateway replicas together: each drains for
// GatewayDrainDelay and at most GatewayDrainTimeout.
func (p *Pylon) stopGateways() error {
	errs := make([]error, len(p.Gateways))
	var wg sync.WaitGroup
	for i, gw := range p.Gateways {
		wg.Go(func() { errs[i] = gw.Stop(30 * time.Second) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pylonManifests reads the RBAC of config/rbac (the users' aggregated
// roles included), transformed as config/default's kustomization does
// (namespace pylon-system, name prefix pylon-), and config/gateway's RBAC,
// classes, Gateway and ExposureClass.
// The gateway's Deployment, Service and PDB are left out: the gateway runs
// as a process of the harness instead.
func pylonManifests(root string, defaultGateway bool) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	// user_roles.yaml aggregates WebApps into the built-in admin/edit/view
	// roles, as an install does: a namespace editor manages WebApps.
	for _, f := range []string{"service_account.yaml", "role.yaml", "role_binding.yaml", "leader_election_role.yaml", "leader_election_role_binding.yaml", "user_roles.yaml"} {
		objs, err := ReadManifests(filepath.Join(root, "config", "rbac", f))
		if err != nil {
			return nil, err
		}
		for _, u := range objs {
			defaultKustomization(u)
		}
		out = append(out, objs...)
	}
	files := []string{"rbac.yaml", "classes.yaml"}
	if defaultGateway {
		files = append(files, "gateway.yaml", "exposureclass.yaml")
	}
	for _, f := range files {
		objs, err := ReadManifests(filepath.Join(root, "config", "gateway", f))
		if err != nil {
			return nil, err
		}
		for _, u := range objs {
			if namespaced(u.GetKind()) {
				u.SetNamespace(SystemNamespace)
			}
		}
		out = append(out, objs...)
	}
	return out, nil
}

// defaultKustomization applies config/default's namespace and namePrefix.
func defaultKustomization(u *unstructured.Unstructured) {
	const prefix = "pylon-"
	u.SetName(prefix + u.GetName())
	if namespaced(u.GetKind()) {
		u.SetNamespace(SystemNamespace)
	}
	if ref, ok, _ := unstructured.NestedString(u.Object, "roleRef", "name"); ok {
		_ = unstructured.SetNestedField(u.Object, prefix+ref, "roleRef", "name")
	}
	subjects, ok, _ := unstructured.NestedSlice(u.Object, "subjects")
	if !ok {
		return
	}
	for _, s := range subjects {
		m := s.(map[string]any)
		if m["kind"] == "ServiceAccount" {
			m["name"] = prefix + m["name"].(string)
			m["namespace"] = SystemNamespace
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, subjects, "subjects")
}

func namespaced(kind string) bool {
	switch kind {
	case "ServiceAccount", "Role", "RoleBinding", "Gateway", "Secret", "Service", "Deployment":
		return true
	}
	return false
}

// ReadManifests decodes every object of a multi-document YAML file.
func ReadManifests(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// Apply server-side applies an object as the administrator.
func (c *Cluster) Apply(ctx context.Context, u *unstructured.Unstructured) error {
	if err := c.Client.Patch(ctx, u, client.Apply, client.FieldOwner("localcluster"), client.ForceOwnership); err != nil { //nolint:staticcheck // client.Apply works with unstructured objects
		return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// waitReady waits until the GatewayClass is Accepted and, with the default
// Gateway, the ExposureClass is Accepted and the Gateway Programmed.
func (c *Cluster) waitReady(ctx context.Context, defaultGateway bool) error {
	const name = "pylon"
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var why string
	for {
		class := &pylonv1alpha1.ExposureClass{}
		gw := &gwv1.Gateway{}
		gwc := &gwv1.GatewayClass{}
		switch {
		case c.Client.Get(ctx, client.ObjectKey{Name: name}, gwc) != nil:
			why = "gatewayclass not readable"
		case !meta.IsStatusConditionTrue(gwc.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted)):
			why = fmt.Sprintf("gatewayclass not accepted: %v", gwc.Status.Conditions)
		case !defaultGateway:
			return nil
		case c.Client.Get(ctx, client.ObjectKey{Name: name}, class) != nil:
			why = "class not readable"
		case !meta.IsStatusConditionTrue(class.Status.Conditions, "Accepted"):
			why = fmt.Sprintf("class not accepted: %v", class.Status.Conditions)
		case c.Client.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: "pylon"}, gw) != nil:
			why = "gateway not readable"
		case !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)):
			why = fmt.Sprintf("gateway not programmed: %v", gw.Status.Conditions)
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pylon not ready: %s (logs in %s)", why, filepath.Dir(c.logPath("x")))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// RouteEditorRole is a ClusterRole aggregated into the built-in "edit"
// role that lets namespace editors write HTTPRoutes and ListenerSets, as
// many shared clusters grant (Gateway API's own install does not). The
// demo and the end-to-end tests' tenants use it, so a second team can try
// to take a WebApp's hostname with them.
func RouteEditorRole() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "gateway-api-edit", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{gwv1.GroupName}, Resources: []string{"httproutes", "listenersets"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		}},
	}
}
