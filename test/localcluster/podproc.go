package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodProcess says how to run a Deployment's Pod as a process here, where no
// image can run: which local binary stands for which path in the image, and
// what the image runs when a container has no command.
type PodProcess struct {
	// Binaries maps a path in the image (e.g. /manager) to a local binary.
	Binaries map[string]string
	// Entrypoint is the image's ENTRYPOINT, run when the container has no
	// command (as a container runtime would).
	Entrypoint []string
	// PodIP is the address the Pod would have: status.podIP in the
	// container's environment, so $(POD_IP) in its args.
	PodIP string
}

// RunDeployment starts the one container of the installed Deployment ns/name
// as a process, the way kubelet would start it in a Pod: its command (or the
// image's entrypoint) and args as installed, $(VAR) references expanded from
// its env (fieldRefs resolved for a Pod named <name>-local at o.PodIP), and
// the Pod's ServiceAccount credentials (a TokenRequest token) projected at
// /var/run/secrets/kubernetes.io/serviceaccount in a mount namespace of its
// own, with KUBERNETES_SERVICE_HOST/PORT naming the API server. The process
// thus finds its in-cluster configuration and namespace as in a Pod, and
// the installed RBAC is exactly what it may do. The process is not started.
func (c *Cluster) RunDeployment(ctx context.Context, ns, name string, o PodProcess) (*Process, error) {
	dep := &appsv1.Deployment{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep); err != nil {
		return nil, fmt.Errorf("read installed deployment %s/%s: %w", ns, name, err)
	}
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		return nil, fmt.Errorf("deployment %s/%s has %d containers, want 1", ns, name, len(spec.Containers))
	}
	ctr := spec.Containers[0]
	podName := name + "-local"
	env, err := containerEnv(ctr, ns, podName, spec, o.PodIP)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	}
	argv := append(append([]string{}, ctr.Command...), ctr.Args...)
	if len(ctr.Command) == 0 {
		argv = append(append([]string{}, o.Entrypoint...), ctr.Args...)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("deployment %s/%s: container %s has no command and the image no entrypoint", ns, name, ctr.Name)
	}
	for i := range argv {
		argv[i] = expand(argv[i], env)
	}
	bin, ok := o.Binaries[argv[0]]
	if !ok {
		return nil, fmt.Errorf("deployment %s/%s runs %q, which is no binary of the image (%v)", ns, name, argv[0], keysOf(o.Binaries))
	}

	sa := spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := c.Clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token of serviceaccount %s/%s: %w", ns, sa, err)
	}
	saDir := filepath.Join(c.Dir, "pods", ns+"_"+podName, "serviceaccount")
	if err := os.MkdirAll(saDir, 0o700); err != nil {
		return nil, err
	}
	for f, b := range map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": c.CA.CertPEM, "namespace": []byte(ns)} {
		if err := os.WriteFile(filepath.Join(saDir, f), b, 0o600); err != nil {
			return nil, err
		}
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("running a pod's process needs unshare (util-linux): %w", err)
	}
	procEnv := []string{
		// In-cluster configuration, as kubelet sets it; no kubeconfig.
		"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=" + apiServerPort, "KUBECONFIG=",
	}
	for k, v := range env {
		procEnv = append(procEnv, k+"="+v)
	}
	args := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", projectScript, "pod", saDir, bin}, argv[1:]...)
	return &Process{Name: name, Path: unshare, Args: args, Env: procEnv, LogPath: c.logPath(ns + "_" + name)}, nil
}

// projectScript runs in the process's own mount namespace: a tmpfs over
// /run (/var/run links there) holds the ServiceAccount files where a Pod
// has them, then the binary replaces the shell. Nothing outside the
// namespace sees the mount.
const projectScript = `set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$1"/token "$1"/ca.crt "$1"/namespace /run/secrets/kubernetes.io/serviceaccount/
shift
exec "$@"`

// containerEnv is the container's environment as kubelet would set it, for
// the fields a Pod of this shape can reference.
func containerEnv(ctr corev1.Container, ns, pod string, spec corev1.PodSpec, podIP string) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(e.Value, env)
		case e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "status.podIP", "status.podIPs":
				env[e.Name] = podIP
			case "status.hostIP", "status.hostIPs":
				env[e.Name] = "10.244.0.1"
			case "metadata.namespace":
				env[e.Name] = ns
			case "metadata.name":
				env[e.Name] = pod
			case "spec.nodeName":
				env[e.Name] = NodeName
			case "spec.serviceAccountName":
				env[e.Name] = spec.ServiceAccountName
			default:
				return nil, fmt.Errorf("env %s: fieldRef %s is not simulated", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
		default:
			return nil, fmt.Errorf("env %s: only values and fieldRefs are simulated", e.Name)
		}
	}
	if len(ctr.EnvFrom) > 0 {
		return nil, fmt.Errorf("container %s: envFrom is not simulated", ctr.Name)
	}
	return env, nil
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) with the variable's value, as kubelet does in
// command, args and env; unknown references stay as they are.
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func keysOf(m map[string]string) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
