// Command demo starts a local cluster (test/localcluster) with Pylon, applies
// a WebApp with TLS and a canary, prints commands to try from inside the
// cluster's private network namespace, and shows the canary split live until
// Ctrl-C, which stops and removes everything. `make demo` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pylon-dev/pylon/test/localcluster"
)

// kubectl is the kubectl binary the printed commands run: the one built from
// the same Kubernetes release as the cluster, so a machine without kubectl
// can follow them.
var kubectl string

func main() {
	paths, err := localcluster.DefaultPaths()
	if err != nil {
		paths = localcluster.Paths{}
	}
	flag.StringVar(&paths.RepoRoot, "repo-root", paths.RepoRoot, "Pylon's repository (config/ and go.mod).")
	flag.StringVar(&paths.BinDir, "bin-dir", paths.BinDir, "Directory holding etcd, kube-apiserver and kube-controller-manager.")
	flag.StringVar(&paths.ManagerBin, "manager", paths.ManagerBin, "Pylon's manager binary.")
	flag.StringVar(&paths.GatewayBin, "gateway", paths.GatewayBin, "Pylon's gateway binary.")
	flag.StringVar(&kubectl, "kubectl", "", "The kubectl the printed commands use (default: kubectl in --bin-dir, which `make kubectl` builds).")
	flag.StringVar(&paths.CertManagerBin, "cert-manager", paths.CertManagerBin, "cert-manager's controllers (make cert-manager), which issue the demo's certificate.")
	flag.StringVar(&paths.ExternalDNSBin, "external-dns", paths.ExternalDNSBin, "external-dns binary (make external-dns); empty: run none.")
	flag.Parse()
	if missing := paths.Missing(); len(missing) > 0 {
		fail(fmt.Errorf("not built (make e2e-deps): %s", strings.Join(missing, ", ")))
	}
	if kubectl == "" {
		kubectl = filepath.Join(paths.BinDir, "kubectl")
	}
	abs, err := filepath.Abs(kubectl)
	if err != nil {
		fail(err)
	}
	kubectl = abs
	if _, err := os.Stat(kubectl); err != nil {
		fail(fmt.Errorf("kubectl not built (make kubectl): %w", err))
	}
	if err := localcluster.Isolate(); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, paths); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "demo: %v\n", err)
	os.Exit(1)
}

func run(ctx context.Context, paths localcluster.Paths) error {
	say("starting etcd, kube-apiserver, kube-controller-manager, the simulated node, Pylon's manager and gateway, and cert-manager ...")
	start := time.Now()
	env, err := localcluster.StartWithPylon(ctx, paths, "")
	if err != nil {
		return err
	}
	defer func() {
		say("stopping everything ...")
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "demo: stop: %v\n", err)
		}
		say("done: no process or network namespace is left.")
	}()
	say("cluster, Pylon and cert-manager (ClusterIssuer %s Ready) in %s", localcluster.ClusterIssuerName, time.Since(start).Round(100*time.Millisecond))

	if err := applyDemo(ctx, env); err != nil {
		return err
	}
	sayDNS(ctx, env)
	caFile := filepath.Join(env.Dir, "pki", "ca.crt")
	printTry(env, caFile)
	return showSplit(ctx, env)
}

func say(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}

// hostPID is this process's PID as the host sees it: the demo runs as PID 1
// of its own PID namespace, but /proc is still the host's, so /proc/self
// names the host PID that nsenter needs.
func hostPID() string {
	if p, err := os.Readlink("/proc/self"); err == nil {
		return p
	}
	return fmt.Sprint(os.Getpid())
}

func printTry(env *localcluster.Env, caFile string) {
	pid := hostPID()
	ns := "nsenter -t " + pid + " -n"
	fmt.Printf(`
Pylon is serving https://%[1]s/ with a canary on its way to %[2]d%%. Everything lives in a private
network namespace; enter it (as root, from another terminal) to try it:

  # a shell inside the cluster's network, with kubectl (built by make kubectl) pointed at it
  %[3]s env PATH=%[10]s:$PATH KUBECONFIG=%[4]s PS1='(pylon-demo) \w# ' bash --norc

  kubectl get webapps -A
  kubectl get deploy,pods,svc,httproutes,listenersets,certificates -n %[5]s
  curl --cacert %[6]s --resolve %[1]s:443:%[7]s https://%[1]s/
  curl -i --resolve %[1]s:80:%[7]s http://%[1]s/            # 301 to https
  curl -s --cacert %[6]s --resolve %[1]s:443:%[7]s -H '%[8]s: canary' https://%[1]s/ | grep image
  kubectl get webapp %[9]s -n %[5]s -o jsonpath='{.status.canary}'   # the effective weight, phase, measured figures
  kubectl patch webapp %[9]s -n %[5]s --type merge -p '{"spec":{"canary":{"weight":50}}}'   # analysed again, step by step
  kubectl patch webapp %[9]s -n %[5]s --type merge -p '{"spec":{"canary":{"image":"registry.example.com/shop:2.1_fail-30"}}}'   # fails 30%%: rolled back

  # a second team: namespace editors (the built-in edit role) may write WebApps, Ingresses and HTTPRoutes here
  kubectl create ns team-b && kubectl create rolebinding editor --clusterrole=edit --serviceaccount=team-b:default -n team-b
  kubectl --as=system:serviceaccount:team-b:default -n team-b create ingress steal --class=pylon --rule='%[1]s/admin*=steal:80'
  kubectl get events -n team-b   # HostnameOwnedByAnotherNamespace: %[1]s/admin stays the WebApp's

  # or one command at a time
  %[3]s %[11]s --kubeconfig %[4]s get webapps -A
%[12]s
The split of live HTTPS requests follows, every 2 seconds. Ctrl-C stops and removes everything.

`, demoHost, demoWeight, ns, env.AdminKubeconfig, demoNamespace, caFile, localcluster.GatewayAddress, canaryHeader, demoApp, filepath.Dir(kubectl), kubectl, dnsTry(env, ns, kubectl))
}

// sayDNS prints the demo hostname's records as external-dns published them.
func sayDNS(ctx context.Context, env *localcluster.Env) {
	if env.ExternalDNS == nil {
		return
	}
	recs, err := env.ExternalDNS.Records(ctx)
	if err != nil {
		say("external-dns: %v", err)
		return
	}
	for _, r := range recs {
		if r.DNSName == demoHost && r.RecordType != "TXT" {
			say("external-dns published %s %s %s (TTL %d)", r.DNSName, r.RecordType, strings.Join(r.Targets, ","), r.TTL)
		}
	}
}

// dnsTry shows what the real external-dns published from the WebApp's
// DNSEndpoint (its inmemory zone), when the demo runs it; ns enters the
// cluster's network namespace and kubectl is the kubectl to print.
func dnsTry(env *localcluster.Env, ns, kubectl string) string {
	if env.ExternalDNS == nil {
		return ""
	}
	return fmt.Sprintf(`
  # DNS: external-dns v0.22.0 (inmemory provider) publishes the WebApp's DNSEndpoint
  %[1]s curl -s %[2]s/records      # the zone: %[3]s A %[4]s, and its ownership TXT record
  %[1]s %[8]s --kubeconfig %[5]s get dnsendpoint %[6]s -n %[7]s -o jsonpath='{.metadata.generation} {.status.observedGeneration}'
`, ns, env.ExternalDNS.URL, demoHost, localcluster.GatewayAddress, env.AdminKubeconfig, demoApp, demoNamespace, kubectl)
}
