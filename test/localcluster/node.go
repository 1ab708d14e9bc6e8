package localcluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/pylon-dev/pylon/test/echo"
)

// NodeName is the simulated node's name.
const NodeName = "local-node"

// Node is a simulated kubelet. It binds every unscheduled Pod to itself,
// gives it an address from PodCIDR, serves the echo backend on that address
// at each container port, and writes the Pod's status: Running at once,
// Ready only after the readiness probe (HTTP GET or TCP) answers. Echo
// fault knobs in a container's env or image tag (see package echo) make its
// server misbehave, or hold the Pod not Ready for good.
//
// A deleted Pod terminates as under a kubelet: it keeps serving (and its
// status is left alone) through its preStop sleep; then, as an app would
// on SIGTERM, its servers stop accepting, finish the requests in flight and
// end their SSE streams and WebSockets cleanly (echo.WithStopping) until
// the grace period ends, when they are closed; only then is the Pod object
// removed. Without a preStop sleep it stops at once.
type Node struct {
	Client client.Client
	// Unserved, when set, picks Pods the node leaves alone (unscheduled,
	// Pending), like Pods whose image cannot run here: a test runs their
	// processes itself (Cluster.RunPod).
	Unserved func(*corev1.Pod) bool

	mu     sync.Mutex
	pods   map[types.NamespacedName]*podServer
	nextIP uint32
}

type podServer struct {
	uid     types.UID
	ip      string
	servers []*http.Server
	// Termination, set when the node first sees the Pod deleted: sigterm is
	// the end of the preStop sleep, killAt the end of the grace period;
	// stopped is closed once the servers have shut down gracefully.
	terminating     bool
	sigterm, killAt time.Time
	stopped         chan struct{}
	// held is the readiness the Pod's echo knobs impose; nil lets the
	// readiness probe decide.
	held *readiness
	// stopping is closed when the graceful shutdown begins: the echo
	// handler then ends its SSE streams and WebSockets cleanly (see
	// echo.WithStopping), as an app does on SIGTERM.
	stopping     chan struct{}
	stoppingOnce sync.Once
	// hijacked are the connections taken over by WebSockets, which
	// http.Server neither waits for nor closes: shutdown closes them, as
	// the end of a killed process would.
	hijackedMu sync.Mutex
	hijacked   map[net.Conn]struct{}
}

// track is an http.Server ConnState hook that remembers hijacked
// connections.
func (ps *podServer) track(c net.Conn, st http.ConnState) {
	if st != http.StateHijacked {
		return
	}
	ps.hijackedMu.Lock()
	defer ps.hijackedMu.Unlock()
	if ps.hijacked == nil {
		ps.hijacked = map[net.Conn]struct{}{}
	}
	ps.hijacked[c] = struct{}{}
}

// stop begins the app's own shutdown of its long-lived exchanges.
func (ps *podServer) stop() { ps.stoppingOnce.Do(func() { close(ps.stopping) }) }

// setUp creates the Node object and registers the Pod controller.
func (n *Node) setUp(ctx context.Context, mgr ctrl.Manager) error {
	n.pods = map[types.NamespacedName]*podServer{}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: map[string]string{
		corev1.LabelHostname: NodeName, corev1.LabelOSStable: "linux",
	}}}
	if err := n.Client.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node: %w", err)
	}
	node.Status = corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
		}},
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.244.0.1"}},
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU: mustQuantity("64"), corev1.ResourceMemory: mustQuantity("256Gi"), corev1.ResourcePods: mustQuantity("1000"),
		},
	}
	node.Status.Allocatable = node.Status.Capacity
	if err := n.Client.Status().Update(ctx, node); err != nil {
		return fmt.Errorf("set node status: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).Named("simulated-node").For(&corev1.Pod{}).
		// A test process may start more than one cluster, each with its node.
		WithOptions(controller.Options{MaxConcurrentReconciles: 4, SkipNameValidation: ptr.To(true)}).Complete(n)
}

// Reconcile moves one Pod along its simulated life.
func (n *Node) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	if err := n.Client.Get(ctx, req.NamespacedName, pod); err != nil {
		if apierrors.IsNotFound(err) {
			n.stop(req.NamespacedName, "")
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	switch {
	case n.Unserved != nil && pod.Spec.NodeName == "" && n.Unserved(pod):
		return ctrl.Result{}, nil
	case pod.DeletionTimestamp != nil:
		return n.terminate(ctx, pod)
	case pod.Spec.NodeName == "":
		binding := &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
			Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
		}
		if err := n.Client.SubResource("binding").Create(ctx, pod, binding); err != nil && !apierrors.IsConflict(err) {
			return ctrl.Result{}, fmt.Errorf("bind pod: %w", err)
		}
		return ctrl.Result{}, nil
	case pod.Spec.NodeName != NodeName:
		return ctrl.Result{}, nil
	}
	ps, err := n.serve(pod)
	if err != nil {
		return ctrl.Result{}, err
	}
	if ps.held != nil {
		// Nothing the node does later can change a held verdict.
		return ctrl.Result{}, n.writeStatus(ctx, pod, ps.ip, *ps.held)
	}
	r := isReadyNow
	if !n.probe(ctx, pod, ps.ip) {
		r = notReady(pod)
	}
	if err := n.writeStatus(ctx, pod, ps.ip, r); err != nil {
		return ctrl.Result{}, err
	}
	if !r.ready {
		return ctrl.Result{RequeueAfter: 300 * time.Millisecond}, nil
	}
	return ctrl.Result{}, nil
}

// serve starts the Pod's servers once and returns them.
func (n *Node) serve(pod *corev1.Pod) (*podServer, error) {
	key := client.ObjectKeyFromObject(pod)
	n.mu.Lock()
	defer n.mu.Unlock()
	if ps, ok := n.pods[key]; ok && ps.uid == pod.UID {
		return ps, nil
	}
	if old, ok := n.pods[key]; ok {
		shutdown(old)
	}
	ps := &podServer{uid: pod.UID, ip: n.allocate(pod), held: heldReadiness(pod), stopping: make(chan struct{})}
	base := echo.WithStopping(context.Background(), ps.stopping)
	for _, c := range pod.Spec.Containers {
		id := echo.Identity{Namespace: pod.Namespace, Pod: pod.Name, Image: c.Image, Service: pod.Labels["app.kubernetes.io/name"]}
		// An invalid knob serves no fault; heldReadiness keeps such a Pod
		// out of its Service instead.
		faults, _ := containerFaults(c)
		for _, port := range servedPorts(c) {
			ln, err := net.Listen("tcp", net.JoinHostPort(ps.ip, strconv.Itoa(int(port))))
			if err != nil {
				shutdown(ps)
				return nil, fmt.Errorf("serve pod %s on %s:%d: %w", key, ps.ip, port, err)
			}
			srv := &http.Server{
				Handler: echo.FaultyHandler(id, faults), ReadHeaderTimeout: 10 * time.Second,
				BaseContext: func(net.Listener) context.Context { return base }, ConnState: ps.track,
			}
			go func() { _ = srv.Serve(ln) }()
			ps.servers = append(ps.servers, srv)
		}
	}
	n.pods[key] = ps
	return ps, nil
}

// echoBasicPort is where the upstream echo-basic image listens when its
// container declares no port (the conformance suite's backends).
const echoBasicPort = 3000

// servedPorts are the TCP ports a container serves: its declared ports,
// else HTTP_PORT from its env, else echo-basic's default.
func servedPorts(c corev1.Container) []int32 {
	var out []int32
	for _, p := range c.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			out = append(out, p.ContainerPort)
		}
	}
	if len(c.Ports) > 0 {
		return out
	}
	for _, e := range c.Env {
		if n, err := strconv.Atoi(e.Value); e.Name == "HTTP_PORT" && err == nil && n > 0 && n < 65536 {
			return []int32{int32(n)}
		}
	}
	return []int32{echoBasicPort}
}

// allocate returns the Pod's address: the one in its status if it has one
// (a restarted harness keeps addresses stable), else the next free one.
func (n *Node) allocate(pod *corev1.Pod) string {
	if ip := net.ParseIP(pod.Status.PodIP).To4(); ip != nil && ip[0] == 10 && ip[1] == 244 {
		return ip.String()
	}
	// 10.244.0.1 is the node's own address; Pods start at 10.244.0.2.
	n.nextIP++
	i := n.nextIP + 1
	return net.IPv4(10, 244, byte(i>>8), byte(i)).String()
}

// probe runs the first container's readiness probe once.
func (n *Node) probe(ctx context.Context, pod *corev1.Pod, ip string) bool {
	for _, c := range pod.Spec.Containers {
		p := c.ReadinessProbe
		if p == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		switch {
		case p.HTTPGet != nil:
			port := resolvePort(p.HTTPGet.Port, c)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, port)+p.HTTPGet.Path, nil)
			if err != nil {
				return false
			}
			// Like the kubelet's: the echo handler spares probes its faults.
			req.Header.Set("User-Agent", echo.ProbeUserAgent)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode >= 200 && resp.StatusCode < 400
		case p.TCPSocket != nil:
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(ip, resolvePort(p.TCPSocket.Port, c)))
			if err != nil {
				return false
			}
			_ = conn.Close()
			return true
		}
	}
	return true
}

func resolvePort(p intstr.IntOrString, c corev1.Container) string {
	if p.Type == intstr.Int {
		return strconv.Itoa(p.IntValue())
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return strconv.Itoa(int(cp.ContainerPort))
		}
	}
	return p.StrVal
}

// terminate runs a deleted Pod's shutdown (see Node), then removes the
// object.
func (n *Node) terminate(ctx context.Context, pod *corev1.Pod) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(pod)
	n.mu.Lock()
	ps, ok := n.pods[key]
	ok = ok && ps.uid == pod.UID
	if ok && !ps.terminating {
		now := time.Now()
		ps.terminating = true
		ps.killAt = now.Add(time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 0)) * time.Second)
		ps.sigterm = now.Add(preStopSleep(pod))
		if ps.sigterm.After(ps.killAt) {
			ps.sigterm = ps.killAt
		}
	}
	n.mu.Unlock()
	if ok {
		if left := time.Until(ps.sigterm); left > 0 {
			return ctrl.Result{RequeueAfter: left}, nil
		}
		if !shutdownGracefully(ps) {
			return ctrl.Result{RequeueAfter: min(50*time.Millisecond, time.Until(ps.killAt))}, nil
		}
	}
	n.stop(key, pod.UID)
	err := n.Client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return ctrl.Result{}, fmt.Errorf("delete pod: %w", err)
	}
	return ctrl.Result{}, nil
}

// preStopSleep is the longest native preStop sleep among the Pod's
// containers (the kubelet runs them in parallel). Other preStop handlers
// are not run.
func preStopSleep(pod *corev1.Pod) time.Duration {
	var longest int64
	for _, c := range pod.Spec.Containers {
		if l := c.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
			longest = max(longest, l.PreStop.Sleep.Seconds)
		}
	}
	return time.Duration(longest) * time.Second
}

// shutdownGracefully starts, once, the shutdown an app does on SIGTERM:
// listeners close, idle connections close, requests in flight finish. It
// reports whether the servers have stopped, or the grace period is over
// (then stop closes what is left, like SIGKILL).
func shutdownGracefully(ps *podServer) bool {
	if ps.stopped == nil {
		ps.stopped = make(chan struct{})
		go func() {
			defer close(ps.stopped)
			ctx, cancel := context.WithDeadline(context.Background(), ps.killAt)
			defer cancel()
			ps.stop()
			var wg sync.WaitGroup
			for _, s := range ps.servers {
				wg.Go(func() { _ = s.Shutdown(ctx) })
			}
			wg.Wait()
		}()
	}
	select {
	case <-ps.stopped:
		return true
	default:
		return !time.Now().Before(ps.killAt)
	}
}

func (n *Node) stop(key types.NamespacedName, uid types.UID) {
	n.mu.Lock()
	ps, ok := n.pods[key]
	if ok && (uid == "" || ps.uid == uid) {
		delete(n.pods, key)
	}
	n.mu.Unlock()
	if ok && (uid == "" || ps.uid == uid) {
		shutdown(ps)
	}
}

// stopAll stops every Pod server (harness shutdown).
func (n *Node) stopAll() {
	n.mu.Lock()
	pods := n.pods
	n.pods = map[types.NamespacedName]*podServer{}
	n.mu.Unlock()
	for _, ps := range pods {
		shutdown(ps)
	}
}

// shutdown ends the Pod's servers at once, as the end of its process
// would: listeners, connections and hijacked connections close.
func shutdown(ps *podServer) {
	ps.stop()
	for _, s := range ps.servers {
		_ = s.Close()
	}
	ps.hijackedMu.Lock()
	defer ps.hijackedMu.Unlock()
	for c := range ps.hijacked {
		_ = c.Close()
	}
	ps.hijacked = nil
}

func isReady(pod *corev1.Pod) bool {
	return readyCondition(pod).Status == corev1.ConditionTrue
}

func readyCondition(pod *corev1.Pod) corev1.PodCondition {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c
		}
	}
	return corev1.PodCondition{}
}

// writeStatus sets the Pod Running on ip, Ready or not as r says, when that
// changes.
func (n *Node) writeStatus(ctx context.Context, pod *corev1.Pod, ip string, r readiness) error {
	if cur := readyCondition(pod); pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP == ip &&
		(cur.Status == corev1.ConditionTrue) == r.ready && cur.Reason == r.reason && cur.Message == r.message {
		return nil
	}
	ready := r.ready
	now := metav1.Now()
	start := pod.Status.StartTime
	if start == nil {
		start = &now
	}
	readyStatus := corev1.ConditionFalse
	if ready {
		readyStatus = corev1.ConditionTrue
	}
	st := corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "10.244.0.1", HostIPs: []corev1.HostIP{{IP: "10.244.0.1"}},
		PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: start, QOSClass: pod.Status.QOSClass,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: readyStatus, Reason: r.reason, Message: r.message, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: readyStatus, Reason: r.reason, Message: r.message, LastTransitionTime: now},
		},
	}
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image, Ready: ready, Started: ptrTo(true),
			ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *start}},
		})
	}
	pod = pod.DeepCopy()
	pod.Status = st
	if err := n.Client.Status().Update(ctx, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update pod status: %w", err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }
