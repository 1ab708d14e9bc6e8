// Command helm-sdk installs, upgrades and uninstalls a chart with Helm's
// own Go SDK (the actions `helm install`, `helm upgrade` and `helm
// uninstall` run), for test/install. It exists for one reason: the local
// cluster's kube-apiserver is built from k8s.io/kubernetes without version
// stamping and reports v0.0.0-master, which fails every chart's kubeVersion
// check, and the helm CLI has no flag to say the real version. Here
// --kube-version names it (the release the binaries were built from); the
// API versions still come from the server's discovery, as the CLI does.
//
//	helm-sdk install|upgrade --release R --namespace N --chart DIR --kube-version v1.36.3 [--set k=v]...
//	helm-sdk uninstall --release R --namespace N
//
// The kubeconfig is $KUBECONFIG. Kept in its own module so Helm's large
// dependency graph never enters Pylon's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/kube"
)

type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "helm-sdk:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: helm-sdk install|upgrade|uninstall [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	release := fs.String("release", "", "release name")
	namespace := fs.String("namespace", "default", "release namespace")
	chartDir := fs.String("chart", "", "chart directory")
	kubeVersion := fs.String("kube-version", "", "Kubernetes version to check the chart's kubeVersion against (empty: the server's)")
	var sets setFlags
	fs.Var(&sets, "set", "a value, as helm's --set (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *release == "" {
		return fmt.Errorf("--release is required")
	}

	settings := cli.New()
	settings.SetNamespace(*namespace)
	getterFn := settings.RESTClientGetter()
	cfg := action.NewConfiguration()
	if err := cfg.Init(getterFn, *namespace, "secret"); err != nil {
		return err
	}
	if *kubeVersion != "" {
		kv, err := common.ParseKubeVersion(*kubeVersion)
		if err != nil {
			return fmt.Errorf("--kube-version: %w", err)
		}
		dc, err := getterFn.ToDiscoveryClient()
		if err != nil {
			return err
		}
		apiVersions, err := action.GetVersionSet(dc)
		if err != nil {
			return fmt.Errorf("discover API versions: %w", err)
		}
		cfg.Capabilities = &common.Capabilities{KubeVersion: *kv, APIVersions: apiVersions, HelmVersion: common.DefaultCapabilities.HelmVersion}
	}

	ctx := context.Background()
	switch args[0] {
	case "install", "upgrade":
		if *chartDir == "" {
			return fmt.Errorf("--chart is required")
		}
		ch, err := loader.Load(*chartDir)
		if err != nil {
			return fmt.Errorf("load chart: %w", err)
		}
		vals, err := (&values.Options{Values: sets}).MergeValues(getter.All(settings))
		if err != nil {
			return err
		}
		if args[0] == "install" {
			i := action.NewInstall(cfg)
			i.ReleaseName, i.Namespace = *release, *namespace
			i.WaitStrategy = kube.HookOnlyStrategy
			_, err = i.RunWithContext(ctx, ch, vals)
		} else {
			u := action.NewUpgrade(cfg)
			u.Namespace = *namespace
			u.WaitStrategy = kube.HookOnlyStrategy
			_, err = u.RunWithContext(ctx, *release, ch, vals)
		}
		return err
	case "uninstall":
		u := action.NewUninstall(cfg)
		u.WaitStrategy = kube.HookOnlyStrategy
		res, err := u.Run(*release)
		if err != nil {
			return err
		}
		if res != nil && res.Info != "" {
			fmt.Println(res.Info)
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
}
