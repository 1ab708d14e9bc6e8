package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Fixed loopback ports: the network namespace is private, so nothing else
// can hold them.
const (
	etcdClientURL = "http://127.0.0.1:2379"
	etcdPeerURL   = "http://127.0.0.1:2380"
	apiServerPort = "6443"
)

// Controllers kube-controller-manager runs: what Deployments, Services,
// PodDisruptionBudgets, HPAs, ownerRefs and namespaces need.
var Controllers = []string{
	"deployment-controller", "replicaset-controller", "endpointslice-controller",
	"garbage-collector-controller", "namespace-controller", "disruption-controller",
	"horizontal-pod-autoscaler-controller",
	// Fills the built-in admin/edit/view ClusterRoles from the roles
	// aggregated into them, as on any cluster: tests acting as a tenant
	// bound to "edit" need it.
	"clusterrole-aggregation-controller",
}

// Options configure a cluster.
type Options struct {
	// BinDir holds etcd, kube-apiserver and kube-controller-manager.
	BinDir string
	// Dir holds certificates, kubeconfigs, etcd data and logs; a new
	// temporary directory when empty (removed by Stop).
	Dir string
	// Scheme for the clients the harness and tests use.
	Scheme *runtime.Scheme
	// Unserved picks Pods the simulated node leaves Pending (see Node).
	Unserved func(*corev1.Pod) bool
}

// Cluster is a running local cluster.
type Cluster struct {
	Dir    string
	CA     *CA
	Scheme *runtime.Scheme
	// Admin is the cluster administrator (group system:masters).
	Admin           *rest.Config
	AdminKubeconfig string
	Client          client.Client
	Clientset       kubernetes.Interface

	Etcd, APIServer, ControllerManager *Process

	node       *Node
	unserved   func(*corev1.Pod) bool
	cancelNode context.CancelFunc
	nodeDone   chan struct{}
	ownDir     bool
}

// Start starts etcd, kube-apiserver, kube-controller-manager and the
// simulated node, and returns once the API server answers and the node is
// registered. It must run inside Isolate's namespace.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if !Isolated() {
		return nil, errors.New("the local cluster must run inside its private network namespace: call localcluster.Isolate first")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("local cluster needs %s in %s (make %s): %w", b, opts.BinDir, b, err)
		}
	}
	c = &Cluster{Dir: opts.Dir, Scheme: opts.Scheme, unserved: opts.Unserved}
	if c.Dir == "" {
		c.Dir = os.Getenv(dirEnv)
	}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "localcluster-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	started := c // the returns below set c to nil
	defer func() {
		if err != nil {
			_ = started.Stop()
		}
	}()
	c.setLogger()
	if err := c.writePKI(); err != nil {
		return nil, err
	}
	if err := c.writeAuditPolicy(); err != nil {
		return nil, err
	}
	c.Etcd = &Process{Name: "etcd", Path: filepath.Join(opts.BinDir, "etcd"), LogPath: c.logPath("etcd"), Args: []string{
		"--data-dir=" + filepath.Join(c.Dir, "etcd"), "--listen-client-urls=" + etcdClientURL,
		"--advertise-client-urls=" + etcdClientURL, "--listen-peer-urls=" + etcdPeerURL,
		"--initial-advertise-peer-urls=" + etcdPeerURL, "--initial-cluster=default=" + etcdPeerURL,
		"--unsafe-no-fsync", "--quota-backend-bytes=4294967296",
	}}
	if err := c.Etcd.Start(); err != nil {
		return nil, err
	}
	c.APIServer = &Process{Name: "kube-apiserver", Path: filepath.Join(opts.BinDir, "kube-apiserver"), LogPath: c.logPath("kube-apiserver"), Args: c.apiServerArgs()}
	if err := c.StartAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	c.ControllerManager = &Process{Name: "kube-controller-manager", Path: filepath.Join(opts.BinDir, "kube-controller-manager"), LogPath: c.logPath("kube-controller-manager"), Args: []string{
		"--kubeconfig=" + c.AdminKubeconfig, "--authentication-kubeconfig=" + c.AdminKubeconfig,
		"--authorization-kubeconfig=" + c.AdminKubeconfig, "--leader-elect=false",
		"--use-service-account-credentials=false", "--controllers=" + strings.Join(Controllers, ","),
		"--bind-address=127.0.0.1", "--secure-port=10257", "--cert-dir=" + filepath.Join(c.Dir, "kcm"),
		"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
		"--concurrent-service-endpoint-syncs=10", "--endpointslice-updates-batch-period=0s",
	}}
	if err := c.ControllerManager.Start(); err != nil {
		return nil, err
	}
	if err := c.startNode(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logPath(name string) string { return filepath.Join(c.Dir, "logs", name+".log") }

// LogPath is the log file of a process the cluster or Pylon runs.
func (c *Cluster) LogPath(name string) string { return c.logPath(name) }

func (c *Cluster) apiServerArgs() []string {
	d := c.Dir
	return append([]string{
		"--etcd-servers=" + etcdClientURL, "--bind-address=127.0.0.1", "--secure-port=" + apiServerPort,
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
		"--tls-cert-file=" + filepath.Join(d, "pki", "apiserver.crt"), "--tls-private-key-file=" + filepath.Join(d, "pki", "apiserver.key"),
		"--client-ca-file=" + filepath.Join(d, "pki", "ca.crt"),
		"--service-account-issuer=https://localcluster.invalid", "--service-account-key-file=" + filepath.Join(d, "pki", "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(d, "pki", "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC",
		// No service-account controller runs, so Pods would wait for the
		// default ServiceAccount forever.
		"--disable-admission-plugins=ServiceAccount", "--allow-privileged=true",
		// On by default; named so that namespaces labelled
		// pod-security.kubernetes.io/enforce are enforced as on a real
		// cluster (the e2e namespaces enforce restricted).
		"--enable-admission-plugins=PodSecurity",
		"--cert-dir=" + filepath.Join(d, "apiserver"),
	}, c.auditArgs()...)
}

// StartAPIServer starts kube-apiserver and waits until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	if err := c.APIServer.Start(); err != nil {
		return err
	}
	return c.waitAPIServer(ctx)
}

// StopAPIServer stops kube-apiserver (the fault the gateway must survive).
func (c *Cluster) StopAPIServer() error { return c.APIServer.Stop(10 * time.Second) }

func (c *Cluster) waitAPIServer(ctx context.Context) error {
	cfg, err := c.userConfig("admin-probe", []string{"system:masters"})
	if err != nil {
		return err
	}
	cfg.Timeout = 2 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last error
	for {
		if _, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready (log: %s): %w", c.APIServer.LogPath, last)
		case <-c.APIServer.Exited():
			return fmt.Errorf("kube-apiserver exited (log: %s)", c.APIServer.LogPath)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) connect() error {
	var err error
	if c.Admin, err = c.userConfig("admin", []string{"system:masters"}); err != nil {
		return err
	}
	c.Admin.QPS, c.Admin.Burst = 200, 400
	if c.AdminKubeconfig, err = c.WriteKubeconfig("admin", []string{"system:masters"}); err != nil {
		return err
	}
	if c.Client, err = client.New(c.Admin, client.Options{Scheme: c.Scheme}); err != nil {
		return err
	}
	c.Clientset, err = kubernetes.NewForConfig(c.Admin)
	return err
}

// startNode runs the simulated node in this process.
func (c *Cluster) startNode(ctx context.Context) error {
	mgr, err := ctrl.NewManager(c.Admin, ctrl.Options{
		Scheme: c.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("simulated node: %w", err)
	}
	c.node = &Node{Client: mgr.GetClient(), Unserved: c.unserved}
	if err := c.node.setUp(ctx, mgr); err != nil {
		return err
	}
	nodeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancelNode, c.nodeDone = cancel, make(chan struct{})
	go func() {
		defer close(c.nodeDone)
		if err := mgr.Start(nodeCtx); err != nil {
			fmt.Fprintf(os.Stderr, "simulated node stopped: %v\n", err)
		}
	}()
	return nil
}

// Stop stops everything the cluster started, in reverse order, and removes
// its directory if Start created it.
func (c *Cluster) Stop() error {
	if c.cancelNode != nil {
		c.cancelNode()
		<-c.nodeDone
		c.node.stopAll()
	}
	var errs []error
	for _, p := range []*Process{c.ControllerManager, c.APIServer, c.Etcd} {
		if p != nil {
			errs = append(errs, p.Stop(10*time.Second))
		}
	}
	if c.ownDir && os.Getenv("LOCALCLUSTER_KEEP") == "" {
		errs = append(errs, os.RemoveAll(c.Dir))
	}
	return errors.Join(errs...)
}

// APIServerURL is where kube-apiserver listens.
func (c *Cluster) APIServerURL() string {
	return "https://" + net.JoinHostPort("127.0.0.1", apiServerPort)
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
