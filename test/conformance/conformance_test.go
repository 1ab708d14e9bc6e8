package conformance

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// SupportedFeatures are the GATEWAY-HTTP extended features the bundled
// gateway implements (internal/gateway/translate and proxy). Left out on
// purpose: request mirroring (its tests read Pod logs, which the simulated
// node does not serve); backend protocol h2c (the proxy does speak h2c to
// backends, but the test sends the request to the Gateway as h2c with prior
// knowledge, which the gateway refuses by design: no cleartext HTTP/2 from
// clients); backendRef filters, CORS, retries, named route rules,
// destination-port matching, infrastructure propagation, client-certificate validation and
// BackendTLSPolicy.
var SupportedFeatures = []features.FeatureName{
	features.SupportGatewayPort8080,
	features.SupportGatewayHTTPListenerIsolation,
	features.SupportListenerSet,
	features.SupportHTTPRouteQueryParamMatching,
	features.SupportHTTPRouteMethodMatching,
	features.SupportHTTPRouteResponseHeaderModification,
	features.SupportHTTPRoutePortRedirect,
	features.SupportHTTPRouteSchemeRedirect,
	features.SupportHTTPRoutePathRedirect,
	features.SupportHTTPRouteHostRewrite,
	features.SupportHTTPRoutePathRewrite,
	features.SupportHTTPRouteRequestTimeout,
	features.SupportHTTPRouteBackendTimeout,
	features.SupportHTTPRouteParentRefPort,
	features.SupportHTTPRoute303RedirectStatusCode,
	features.SupportHTTPRoute307RedirectStatusCode,
	features.SupportHTTPRoute308RedirectStatusCode,
	features.SupportHTTPRouteBackendProtocolWebSocket,
	features.SupportGatewayStaticAddresses,
	features.SupportGatewayAddressEmpty,
}

var env *localcluster.Env

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	paths, err := localcluster.DefaultPaths()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if missing := paths.Missing(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "conformance needs binaries that are not built (make e2e-deps): %v\n", missing)
		return 1
	}
	if err := localcluster.Isolate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err = localcluster.StartWith(context.Background(), paths, localcluster.PylonOptions{
		RepoRoot: paths.RepoRoot, ManagerBin: paths.ManagerBin, GatewayBin: paths.GatewayBin, NoDefaultGateway: true,
		// Each Gateway gets an address of its own, as the suite expects
		// (HTTPRouteMultipleGateways: two Gateways, one port, no hostname).
		GatewayAddressPool: localcluster.GatewayPool,
	}, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "start local cluster: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	// The suite attaches routes of several namespaces to one listener
	// hostname (ListenerSetAllowedRoutesNamespaces): plain Gateway API
	// lets them share it. Pylon serves each hostname from one namespace
	// unless the platform opts in, as done here for the suite's class.
	if err := allowHostnameSharing(context.Background(), "pylon"); err != nil {
		fmt.Fprintf(os.Stderr, "opt the conformance GatewayClass into hostname sharing: %v\n", err)
		return 1
	}
	return m.Run()
}

func TestConformance(t *testing.T) {
	// DefaultOptions reads the suite's flags (-report-output, -run-test,
	// -skip-tests ...) and builds its clients from KUBECONFIG.
	t.Setenv("KUBECONFIG", env.AdminKubeconfig)
	opts := conformance.DefaultOptions(t)
	opts.GatewayClassName = "pylon"
	opts.ConformanceProfiles = []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName}
	if len(opts.SupportedFeatures) == 0 {
		opts.SupportedFeatures = SupportedFeatures
	}
	// Static addresses come from the gateway's pool (GatewayPool); an
	// address outside it is one the data plane cannot use.
	opts.UsableNetworkAddresses = []gwv1.GatewaySpecAddress{{Type: ptr.To(gwv1.IPAddressType), Value: "10.250.1.250"}}
	opts.UnusableNetworkAddresses = []gwv1.GatewaySpecAddress{{Type: ptr.To(gwv1.IPAddressType), Value: "10.250.2.1"}}
	opts.CleanupBaseResources = false
	opts.Implementation = confv1.Implementation{
		Organization: "pylon-dev", Project: "pylon", URL: "https://github.com/pylon-dev/pylon",
		Version: "dev", Contact: []string{"@pylon-dev/maintainers"},
	}
	opts.Mode = "default"
	conformance.RunConformanceWithOptions(t, opts)
}

// allowHostnameSharing sets contract.AnnotationHostnameSharing on a
// GatewayClass.
func allowHostnameSharing(ctx context.Context, class string) error {
	gc := &gwv1.GatewayClass{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: class}, gc); err != nil {
		return err
	}
	patch := client.MergeFrom(gc.DeepCopy())
	if gc.Annotations == nil {
		gc.Annotations = map[string]string{}
	}
	gc.Annotations[contract.AnnotationHostnameSharing] = contract.HostnameSharingAllowAcrossNamespaces
	return env.Client.Patch(ctx, gc, patch)
}
