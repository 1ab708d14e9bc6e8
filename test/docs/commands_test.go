package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// commandDocs are the pages whose every command is checked: the README and
// the pages it hands its detail to.
var commandDocs = []string{
	"README.md",
	"docs/api.md",
	"docs/conformance.md",
	"docs/gateway.md",
	"docs/performance.md",
	"docs/testing.md",
	"docs/troubleshooting.md",
}

// readersOwnFiles are files an example applies that the reader writes
// (named in the text next to it), not files of this repository.
var readersOwnFiles = map[string]bool{"shop.yaml": true, "hello.yaml": true}

// builtinResources are the kubectl resource names the docs may use besides
// the CRDs in config/crd/bases.
var builtinResources = words(`
	all deploy deployment deployments pod pods po svc service services ns namespace namespaces
	ingress ingresses ing ingressclass ingressclasses hpa horizontalpodautoscaler horizontalpodautoscalers
	pdb poddisruptionbudget poddisruptionbudgets events event ev secret secrets configmap configmaps cm
	node nodes endpointslices endpointslice sa serviceaccount serviceaccounts role roles rolebinding rolebindings
	clusterrole clusterroles clusterrolebinding clusterrolebindings crd crds customresourcedefinition customresourcedefinitions
	gateway gateways gatewayclass gatewayclasses httproute httproutes listenerset listenersets referencegrant referencegrants
	certificate certificates cert certs certificaterequest certificaterequests cr issuer issuers clusterissuer clusterissuers
	dnsendpoint dnsendpoints servicemonitor servicemonitors podmonitor podmonitors prometheusrule prometheusrules`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Every command in the README and the pages it points to works as written,
// as far as can be checked without a cluster.
func TestDocCommandsWorkAsWritten(t *testing.T) {
	c := &checker{t: t, resources: pylonResources(t)}
	for k := range builtinResources {
		c.resources[k] = true
	}
	n := 0
	for _, f := range commandDocs {
		for _, cmd := range commands(f, readDoc(t, f)) {
			n++
			for _, simple := range pipeline(cmd.text) {
				if problem := c.check(simple); problem != "" {
					t.Errorf("%s: %s\n    %s", cmd.where, cmd.text, problem)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d commands in %v: is the code-block parsing broken?", n, commandDocs)
	}
	t.Logf("checked %d commands", n)
}

// pylonResources are the names kubectl accepts for Pylon's own CRDs.
func pylonResources(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Names struct {
					Plural, Singular, Kind string
					ShortNames             []string `json:"shortNames"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names := crd.Spec.Names
		for _, n := range append([]string{names.Plural, names.Singular, strings.ToLower(names.Kind)}, names.ShortNames...) {
			out[n] = true
		}
	}
	return out
}

type checker struct {
	t         *testing.T
	resources map[string]bool
}

var (
	envAssign = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)
	pinnedURL = regexp.MustCompile(`^https://.*/v\d+\.\d+\.\d+/`)
)

// passive are commands that only read or show what a reader already has;
// nothing in the repository can be wrong about them.
var passive = words(`curl grep jq head tail less cat echo nsenter env watch sort`)

// check returns what is wrong with one simple command, or "".
func (c *checker) check(argv []string) string {
	var vars []string
	for len(argv) > 0 && envAssign.MatchString(argv[0]) {
		vars = append(vars, argv[0])
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return ""
	}
	switch name := argv[0]; {
	case name == "make":
		return c.make(append(argv[1:], vars...))
	case name == "kubectl":
		return c.kubectl(argv[1:])
	case name == "helm":
		return c.helm(argv[1:])
	case name == "go":
		return c.goCmd(argv[1:])
	case name == "kustomize" || strings.HasPrefix(name, "bin/kustomize"):
		if len(argv) >= 3 && argv[1] == "build" {
			return c.kustomizeDir(argv[2])
		}
		return "kustomize: only `kustomize build <dir>` is checked"
	case passive[name]:
		return ""
	default:
		return "no check for `" + name + "`: add one to test/docs/commands_test.go, or leave the command out"
	}
}

func (c *checker) make(args []string) string {
	var targets, vars []string
	for _, a := range args {
		switch {
		case envAssign.MatchString(a):
			vars = append(vars, a)
		case strings.HasPrefix(a, "-"):
			return "make: flags are not checked: " + a
		default:
			targets = append(targets, a)
		}
	}
	if len(targets) == 0 {
		targets = []string{"all"}
	}
	_, stderr, err := runIn(c.t, "make", append(append([]string{"-n"}, targets...), vars...)...)
	if err != nil {
		return "make -n " + strings.Join(targets, " ") + " fails: " + firstLines(stderr, 3)
	}
	return ""
}

// kubectlValueFlags take the next word as their value.
var kubectlValueFlags = words(`-n --namespace -o --output -p --patch --type -f --filename -k --kustomize
	-l --selector --field-selector --for --timeout --kubeconfig --context -c --container --sort-by`)

func (c *checker) kubectl(args []string) string {
	var pos []string
	var files, kustomizations []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			name, value, hasValue := strings.Cut(a, "=")
			if !hasValue && kubectlValueFlags[name] && i+1 < len(args) {
				value = args[i+1]
				i++
			}
			switch name {
			case "-f", "--filename":
				files = append(files, value)
			case "-k", "--kustomize":
				kustomizations = append(kustomizations, value)
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) == 0 {
		return "kubectl without a command"
	}
	for _, f := range files {
		if p := c.manifest(f); p != "" {
			return p
		}
	}
	for _, k := range kustomizations {
		if p := c.kustomizeDir(k); p != "" {
			return p
		}
	}
	switch verb := pos[0]; verb {
	case "apply", "create", "replace", "diff":
		if len(files)+len(kustomizations) == 0 {
			return "kubectl " + verb + " without -f or -k"
		}
		return ""
	case "get", "describe", "wait", "patch", "delete", "edit", "label", "annotate", "logs", "explain", "scale":
		if len(pos) < 2 {
			if verb == "delete" && len(files)+len(kustomizations) > 0 {
				return ""
			}
			return "kubectl " + verb + " without a resource"
		}
		for _, r := range strings.Split(pos[1], ",") {
			r, _, _ = strings.Cut(r, "/")
			r, _, _ = strings.Cut(r, ".") // explain webapp.spec, certificates.cert-manager.io
			if !c.resources[strings.ToLower(r)] {
				return "kubectl " + verb + ": unknown resource " + r
			}
		}
		return ""
	case "rollout":
		if len(pos) < 3 {
			return "kubectl rollout without a resource"
		}
		for _, r := range pos[2:] {
			r, _, _ = strings.Cut(r, "/")
			if !c.resources[r] {
				return "kubectl rollout: unknown resource " + r
			}
		}
		return ""
	case "version", "cluster-info", "api-resources", "config":
		return ""
	}
	return "no check for `kubectl " + pos[0] + "`"
}

// manifest checks a file given to kubectl -f: a pinned URL, stdin, a file
// the reader writes, or a file of this repository that parses.
func (c *checker) manifest(f string) string {
	switch {
	case f == "-":
		return ""
	case strings.Contains(f, "://"):
		if !pinnedURL.MatchString(f) {
			return "URL is not https or not pinned to a release (…/vX.Y.Z/…): " + f
		}
		return ""
	case readersOwnFiles[f]:
		return ""
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(c.t), f))
	if err != nil {
		return "kubectl -f " + f + ": " + err.Error()
	}
	for i, doc := range strings.Split(string(b), "\n---\n") {
		m := map[string]any{}
		if err := yaml.UnmarshalStrict([]byte(doc), &m); err != nil {
			return f + " document " + strconv.Itoa(i) + ": " + err.Error()
		}
	}
	return ""
}

func (c *checker) kustomizeDir(dir string) string {
	if _, err := os.Stat(filepath.Join(repoRoot(c.t), dir, "kustomization.yaml")); err != nil {
		return dir + " is not a kustomize directory: " + err.Error()
	}
	out, stderr, err := runIn(c.t, tool(c.t, "kustomize", kustomizeVersion), "build", dir)
	if err != nil {
		return "kustomize build " + dir + ": " + firstLines(stderr, 3)
	}
	if p := runnable(parseManifests(c.t, out)); p != "" {
		return "kustomize build " + dir + ": " + p
	}
	return ""
}

// helmValueFlags take the next word as their value; helmInstallOnly are
// flags of install/upgrade that template does not need.
var (
	helmValueFlags  = words(`-n --namespace -f --values --set --set-string --set-file --version --timeout`)
	helmInstallOnly = words(`--create-namespace --wait --atomic --install --reuse-values --reset-values --rollback-on-failure`)
)

func (c *checker) helm(args []string) string {
	if len(args) == 0 {
		return "helm without a command"
	}
	verb := args[0]
	switch verb {
	case "install", "upgrade", "template":
	case "uninstall", "list", "status", "history", "rollback":
		return ""
	default:
		return "no check for `helm " + verb + "`"
	}
	var pos, flags []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		if helmInstallOnly[name] {
			continue
		}
		flags = append(flags, a)
		if !hasValue && helmValueFlags[name] && i+1 < len(args) {
			flags = append(flags, args[i+1])
			if name == "-f" || name == "--values" {
				if _, err := os.Stat(filepath.Join(repoRoot(c.t), args[i+1])); err != nil {
					return "helm " + verb + ": values file " + args[i+1] + ": " + err.Error()
				}
			}
			i++
		}
	}
	if len(pos) != 2 {
		return "helm " + verb + ": want RELEASE CHART, got " + strings.Join(pos, " ")
	}
	if _, err := os.Stat(filepath.Join(repoRoot(c.t), pos[1], "Chart.yaml")); err != nil {
		return "helm " + verb + ": " + pos[1] + " is not a chart of this repository: " + err.Error()
	}
	out, stderr, err := runIn(c.t, tool(c.t, "helm", helmVersion), append([]string{"template", pos[0], pos[1]}, flags...)...)
	if err != nil {
		return "helm template " + pos[0] + " " + pos[1] + ": " + firstLines(stderr, 3)
	}
	if p := runnable(parseManifests(c.t, out)); p != "" {
		return "helm template: " + p
	}
	return ""
}

func (c *checker) goCmd(args []string) string {
	if len(args) == 0 {
		return "go without a command"
	}
	switch args[0] {
	case "test", "build", "run", "vet":
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "./") {
				continue
			}
			dir := strings.TrimSuffix(strings.TrimSuffix(a, "..."), "/")
			if _, err := os.Stat(filepath.Join(repoRoot(c.t), dir)); err != nil {
				return "go " + args[0] + ": no package directory " + dir
			}
		}
		return ""
	case "tool":
		if len(args) > 1 && args[1] == "pprof" {
			f := args[len(args)-1]
			if _, err := os.Stat(filepath.Join(repoRoot(c.t), f)); err != nil {
				return "go tool pprof: " + err.Error()
			}
		}
		return ""
	}
	return "no check for `go " + args[0] + "`"
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}
